package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// insertSecret inserts s as a secret of the key keyID.
func insertSecret(ctx context.Context, tx *sql.Tx, keyID string, s Secret) error {
	if s.KeyID != "" && s.KeyID != keyID {
		return fmt.Errorf("secret belongs to key %s, not %s", s.KeyID, keyID)
	}
	created, err := mustTime("secret created time", s.CreatedAt)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO key_secrets (hash, key_id, secret_start, secret_end, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)`, s.Hash[:], keyID, s.Start, s.End, created, micros(s.ExpiresAt))
	return conflict(err)
}

// RotateKey gives the key with the given ID the new current secret s, in
// one transaction: every existing secret of the key expires at graceUntil
// at the latest, s is inserted, update changes the key (it sets Start, End
// and UpdatedAt) and the event update returns is written. If update
// returns an error, nothing is written and that error is returned
// unchanged. s.KeyID may be empty and s.ExpiresAt must be zero; graceUntil
// must be set (pass now to end the old secrets at once). It returns
// ErrNotFound, or ErrConflict if s.Hash is taken.
func (db *DB) RotateKey(ctx context.Context, id string, s Secret, graceUntil time.Time, update func(*Key) (Event, error)) (Key, error) {
	if graceUntil.IsZero() || !s.ExpiresAt.IsZero() {
		return Key{}, fmt.Errorf("rotate key %s: need a grace time and a new secret without expiry", id)
	}
	grace := graceUntil.UnixMicro()
	k, err := db.changeKey(ctx, id, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE key_secrets SET expires_at = $2
WHERE key_id = $1 AND (expires_at IS NULL OR expires_at > $2)`, id, grace)
		if err != nil {
			return err
		}
		return insertSecret(ctx, tx, id, s)
	}, update)
	if err != nil {
		return Key{}, wrapUnlessCallback(err, "rotate key "+id)
	}
	return k, nil
}

// SecretsOfKey returns the secrets of the key with the given ID, oldest
// first; none if there is no such key.
func (db *DB) SecretsOfKey(ctx context.Context, keyID string) ([]Secret, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+secretCols+` FROM key_secrets s
WHERE s.key_id = $1 ORDER BY s.created_at, s.hash`, keyID)
	if err != nil {
		return nil, fmt.Errorf("secrets of key %s: %w", keyID, err)
	}
	defer rows.Close()
	var out []Secret
	for rows.Next() {
		var r secretRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("secrets of key %s: %w", keyID, err)
		}
		s, err := r.secret()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("secrets of key %s: %w", keyID, err)
	}
	return out, nil
}

// DeleteExpiredSecrets deletes the old (non-current) secrets that expired
// before the given time, and reports how many it deleted. It writes no
// event: expired secrets no longer authenticate anyway.
func (db *DB) DeleteExpiredSecrets(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM key_secrets
WHERE expires_at IS NOT NULL AND expires_at < $1`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("delete expired secrets: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired secrets: %w", err)
	}
	return n, nil
}

// Bootstrap creates k, s and ev as CreateKey does, once per marker: in the
// same transaction it records marker, and if marker is already recorded
// it creates nothing and returns false. It returns ErrNotFound if
// k.APIID names no API, and ErrConflict if k.ID or s.Hash is taken.
func (db *DB) Bootstrap(ctx context.Context, marker string, k Key, s Secret, ev Event) (created bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING`, marker, k.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := insertKey(ctx, tx, k, s); err != nil {
			return err
		}
		created = true
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap %s: %w", marker, err)
	}
	return created, nil
}
