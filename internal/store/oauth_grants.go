package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Grant is a person's consent to a client: the scopes (OpenID and API
// scopes alike) and the APIs they allowed it, remembered until they
// revoke it.
type Grant struct {
	UserID     string
	ClientID   string
	Scopes     []string
	APIIDs     []string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

const grantCols = `user_id, client_id, scopes, api_ids, created_at, last_used_at`

func scanGrant(s scanner) (Grant, error) {
	var g Grant
	var scopes, apis string
	var created, used sql.NullInt64
	if err := s.Scan(&g.UserID, &g.ClientID, &scopes, &apis, &created, &used); err != nil {
		return Grant{}, notFound(err)
	}
	var err error
	if g.Scopes, err = decodeStrings(scopes); err != nil {
		return Grant{}, fmt.Errorf("grant scopes: %w", err)
	}
	if g.APIIDs, err = decodeStrings(apis); err != nil {
		return Grant{}, fmt.Errorf("grant apis: %w", err)
	}
	g.CreatedAt, g.LastUsedAt = fromMicros(created), fromMicros(used)
	return g, nil
}

// SaveGrant stores g, replacing the grant of the same user and client
// (whose CreatedAt is kept), and writes ev. It returns ErrNotFound if
// the user or client does not exist.
func (db *DB) SaveGrant(ctx context.Context, g Grant, ev Event) error {
	scopes, err := encodeJSON(emptyList(g.Scopes))
	if err != nil {
		return err
	}
	apis, err := encodeJSON(emptyList(g.APIIDs))
	if err != nil {
		return err
	}
	created, err := mustTime("grant created time", g.CreatedAt)
	if err != nil {
		return err
	}
	used, err := mustTime("grant used time", g.LastUsedAt)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_grants (`+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, api_ids = excluded.api_ids,
	last_used_at = excluded.last_used_at`, g.UserID, g.ClientID, scopes, apis, created, used)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("user %s or client %s: %w", g.UserID, g.ClientID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := setGrantAPIs(ctx, tx, g.UserID, g.ClientID, g.APIIDs); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("save grant: %w", err)
	}
	return nil
}

// GrantFor returns the grant of user userID to client clientID, or
// ErrNotFound.
func (db *DB) GrantFor(ctx context.Context, userID, clientID string) (Grant, error) {
	g, err := scanGrant(db.r.QueryRowContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE user_id = $1 AND client_id = $2`,
		userID, clientID))
	if err != nil {
		return Grant{}, fmt.Errorf("grant: %w", err)
	}
	return g, nil
}

// ListGrants returns the grants of user userID, by client id.
func (db *DB) ListGrants(ctx context.Context, userID string) ([]Grant, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+grantCols+` FROM oauth_grants WHERE user_id = $1 ORDER BY client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return out, nil
}

// TouchGrant sets the last use of a grant to now; a missing grant is not
// an error (first-party clients have none).
func (db *DB) TouchGrant(ctx context.Context, userID, clientID string, now time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE oauth_grants SET last_used_at = $3 WHERE user_id = $1 AND client_id = $2`,
			userID, clientID, now.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("touch grant: %w", err)
	}
	return nil
}

// RevokeGrant deletes the grant of user userID to client clientID and, in
// the same transaction with ev, revokes every token the client holds for
// the user: its refresh-token families, its opaque access tokens, and the
// unexpired JWT access tokens that codes and device codes issued; it
// announces them, so that every node refuses them at once. It returns
// ErrNotFound if there was no grant.
func (db *DB) RevokeGrant(ctx context.Context, userID, clientID string, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oauth_grants WHERE user_id = $1 AND client_id = $2`, userID, clientID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		if err := revokeUserTokens(ctx, tx, &out, now, userID, clientID); err != nil {
			return err
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke grant: %w", err)
	}
	return out, nil
}

// revokeUserTokens revokes within tx everything client clientID holds for
// user userID.
func revokeUserTokens(ctx context.Context, tx *sql.Tx, out *FamilyRevocation, now time.Time, userID, clientID string) error {
	if err := revokeFamilies(ctx, tx, out, now, `client_id = $2 AND subject = $3`, clientID, userID); err != nil {
		return err
	}
	if err := revokeAccessWhere(ctx, tx, out, now, `client_id = $2 AND subject = $3`, clientID, userID); err != nil {
		return err
	}
	for _, table := range []string{"oauth_codes", "oauth_device_codes"} {
		rows, err := tx.QueryContext(ctx, `SELECT access_jti, access_expires_at FROM `+table+`
WHERE user_id = $1 AND client_id = $2 AND access_jti IS NOT NULL AND access_expires_at > $3`, userID, clientID, now.UnixMicro())
		if err != nil {
			return err
		}
		type jtiExp struct {
			jti string
			exp int64
		}
		var found []jtiExp
		for rows.Next() {
			var j jtiExp
			if err := rows.Scan(&j.jti, &j.exp); err != nil {
				rows.Close()
				return err
			}
			found = append(found, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range found {
			if err := revokeJTITx(ctx, tx, j.jti, time.UnixMicro(j.exp)); err != nil {
				return err
			}
			out.JTIs = append(out.JTIs, j.jti)
		}
	}
	return nil
}
