package store

import (
	"context"
	"database/sql"
	"time"
)

// ClaimExpiringPATs claims the expiry notice of up to limit personal
// access tokens, not revoked, whose expiry falls after now and at or
// before until, and whose notice for that expiry was not yet claimed. For
// each it records the claim (keys.expiry_noticed_at = expires_at) and
// writes the event that event returns, in one transaction, so the audit
// event, its webhook deliveries and the claim commit together. It returns
// the tokens it claimed.
//
// The claim is an UPDATE whose condition is that the notice differs from
// the expiry: nodes sweeping at once contend for the row's lock, and
// whoever comes second finds the condition false (PostgreSQL re-reads the
// row after the first commits; SQLite has one writer), so exactly one
// node notices each token, once per expiry.
func (db *DB) ClaimExpiringPATs(ctx context.Context, now, until time.Time, limit int, event func(Key) (Event, error)) ([]Key, error) {
	var out []Key
	err := db.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		cands, err := expiringPATs(ctx, tx, now, until, limit)
		if err != nil {
			return err
		}
		for _, k := range cands {
			res, err := tx.ExecContext(ctx, `UPDATE keys SET expiry_noticed_at = expires_at
WHERE id = $1 AND expires_at = $2 AND revoked_at IS NULL AND (expiry_noticed_at IS NULL OR expiry_noticed_at <> expires_at)`,
				k.ID, k.ExpiresAt.UnixMicro())
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return err
				}
				continue // another node noticed it first
			}
			ev, err := event(k)
			if err != nil {
				return callbackError{err}
			}
			if err := insertEvent(ctx, tx, ev); err != nil {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, wrapUnlessCallback(err, "claim expiring personal access tokens")
	}
	return out, nil
}

// expiringPATs reads the candidates of ClaimExpiringPATs, soonest expiry
// first, through the index keys_pat_expiry.
func expiringPATs(ctx context.Context, tx *sql.Tx, now, until time.Time, limit int) ([]Key, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+keyCols+` FROM keys k
WHERE k.user_id IS NOT NULL AND k.expires_at > $1 AND k.expires_at <= $2 AND k.revoked_at IS NULL
	AND (k.expiry_noticed_at IS NULL OR k.expiry_noticed_at <> k.expires_at)
ORDER BY k.expires_at, k.id LIMIT $3`, now.UnixMicro(), until.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
