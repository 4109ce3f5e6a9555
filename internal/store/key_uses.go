package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// KeyUse counts the verifications of one personal access token in one
// minute from one client address with one result code: the recent uses
// its owner sees.
type KeyUse struct {
	KeyID  string
	Minute time.Time // truncated to the minute
	IP     string
	Code   string
	Count  int64
}

// KeepUses is how many rows of recent uses RecordKeyUses keeps per key,
// and KeyUseRetention how long it keeps any.
const (
	KeepUses        = 100
	KeyUseRetention = 30 * 24 * time.Hour
)

// RecordKeyUses adds us to the recent uses in one transaction, then keeps
// the newest KeepUses rows of each key it touched and drops every row
// older than KeyUseRetention before now, so that the table stays bounded
// by the number of live tokens.
func (db *DB) RecordKeyUses(ctx context.Context, us []KeyUse, now time.Time) error {
	if len(us) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		touched := map[string]bool{}
		for _, u := range us {
			_, err := tx.ExecContext(ctx, `INSERT INTO key_uses (key_id, minute, ip, code, count) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (key_id, minute, ip, code) DO UPDATE SET count = key_uses.count + excluded.count`,
				u.KeyID, u.Minute.UnixMicro(), u.IP, u.Code, u.Count)
			if err != nil {
				return err
			}
			touched[u.KeyID] = true
		}
		for id := range touched {
			_, err := tx.ExecContext(ctx, `DELETE FROM key_uses WHERE key_id = $1 AND minute < (
	SELECT minute FROM key_uses WHERE key_id = $1 ORDER BY minute DESC LIMIT 1 OFFSET $2)`, id, KeepUses-1)
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM key_uses WHERE minute < $1`, now.Add(-KeyUseRetention).UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("record key uses: %w", err)
	}
	return nil
}

// KeyUses returns the recent uses of key keyID, newest first, at most
// limit.
func (db *DB) KeyUses(ctx context.Context, keyID string, limit int) ([]KeyUse, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT key_id, minute, ip, code, count FROM key_uses WHERE key_id = $1
ORDER BY minute DESC, ip, code LIMIT $2`, keyID, limit)
	if err != nil {
		return nil, fmt.Errorf("key uses: %w", err)
	}
	return scanKeyUses(rows)
}

// LastKeyUses returns, for each of keyIDs that has one, its newest
// recorded use with the result code code ("VALID": its last use).
func (db *DB) LastKeyUses(ctx context.Context, keyIDs []string, code string) (map[string]KeyUse, error) {
	out := make(map[string]KeyUse, len(keyIDs))
	if len(keyIDs) == 0 {
		return out, nil
	}
	args := []any{code}
	marks := make([]string, len(keyIDs))
	for i, id := range keyIDs {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT key_id, minute, ip, code, count FROM (
	SELECT key_id, minute, ip, code, count, row_number() OVER (PARTITION BY key_id ORDER BY minute DESC) AS n
	FROM key_uses WHERE code = $1 AND key_id IN (`+strings.Join(marks, ", ")+`)) AS last WHERE n = 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("last key uses: %w", err)
	}
	us, err := scanKeyUses(rows)
	for _, u := range us {
		out[u.KeyID] = u
	}
	return out, err
}

func scanKeyUses(rows *sql.Rows) ([]KeyUse, error) {
	defer rows.Close()
	var out []KeyUse
	for rows.Next() {
		var u KeyUse
		var minute int64
		if err := rows.Scan(&u.KeyID, &minute, &u.IP, &u.Code, &u.Count); err != nil {
			return nil, fmt.Errorf("key uses: %w", err)
		}
		u.Minute = time.UnixMicro(minute).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("key uses: %w", err)
	}
	return out, nil
}
