package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Family is a live refresh-token family of a person: what one app holds
// for them. Scopes are those of its current refresh token, which a
// regrant may have narrowed; StartedAt is when the person granted it,
// LastUsedAt when it was last rotated, and IP the client address of
// that rotation (or of its first issue). Device says the device flow
// started it.
type Family struct {
	ID         string
	ClientID   string
	APIID      string
	Scopes     []string
	StartedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	IP         string
	Device     bool
}

// UserFamilies returns the live refresh-token families of user userID at
// now, most recently used first, at most limit: one indexed read of the
// current token of each family.
func (db *DB) UserFamilies(ctx context.Context, userID string, now time.Time, limit int) ([]Family, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT t.family_id, t.client_id, t.api_id, t.scopes, t.created_at, t.expires_at, t.ip,
	(SELECT min(f.created_at) FROM oauth_refresh_tokens f WHERE f.family_id = t.family_id),
	EXISTS (SELECT 1 FROM oauth_device_codes d WHERE d.family_id = t.family_id)
FROM oauth_refresh_tokens t
WHERE t.subject = $1 AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2
ORDER BY t.created_at DESC LIMIT $3`, userID, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("families of user: %w", err)
	}
	defer rows.Close()
	var out []Family
	for rows.Next() {
		var f Family
		var scopes string
		var used, expires, started int64
		if err := rows.Scan(&f.ID, &f.ClientID, &f.APIID, &scopes, &used, &expires, &f.IP, &started, &f.Device); err != nil {
			return nil, fmt.Errorf("families of user: %w", err)
		}
		if f.Scopes, err = decodeStrings(scopes); err != nil {
			return nil, fmt.Errorf("family scopes: %w", err)
		}
		f.LastUsedAt, f.ExpiresAt, f.StartedAt = time.UnixMicro(used).UTC(), time.UnixMicro(expires).UTC(), time.UnixMicro(started).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("families of user: %w", err)
	}
	return out, nil
}

// RevokeUserFamily revokes, as RevokeRefreshFamily does and in one
// transaction with ev, the refresh-token family familyID of user userID.
// A family of another subject, or none, is ErrNotFound and changes
// nothing.
func (db *DB) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oauth_refresh_tokens WHERE family_id = $1 AND subject = $2`,
			familyID, userID).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := revokeFamilies(ctx, tx, &out, now, `family_id = $2 AND subject = $3`, familyID, userID); err != nil {
			return err
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke family %s: %w", familyID, err)
	}
	return out, nil
}

// RevokeUserFamilies revokes, in one transaction with ev, every
// refresh-token family of user userID, with what was issued with them.
func (db *DB) RevokeUserFamilies(ctx context.Context, userID string, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if err := revokeFamilies(ctx, tx, &out, now, `subject = $2`, userID); err != nil {
			return err
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke families of user %s: %w", userID, err)
	}
	return out, nil
}

// RevokeUserKeys revokes, in one transaction with ev, every live personal
// access token of user userID, and announces their secrets. It returns
// how many it revoked.
func (db *DB) RevokeUserKeys(ctx context.Context, userID string, now time.Time, ev Event) (int64, error) {
	var n int64
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if err := announceUser(ctx, tx, c, userID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE keys SET revoked_at = $2, updated_at = $2
WHERE user_id = $1 AND revoked_at IS NULL`, userID, now.UnixMicro())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of user %s: %w", userID, err)
	}
	return n, nil
}
