package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuthCode is an authorization code (RFC 6749 §4.1), stored under the
// SHA-256 of its value, bound to the client, the redirect URI, the PKCE
// challenge (RFC 7636, S256) and the API (RFC 8707 resource; "" for
// none) it was issued for, and to the user's sign-in: SessionID, AuthTime
// and AMR feed the ID token. Zero UsedAt means not redeemed; once
// redeemed, Issued names what the code issued.
type AuthCode struct {
	Hash        [32]byte
	ClientID    string
	UserID      string
	RedirectURI string
	Challenge   string
	APIID       string
	Scopes      []string
	Nonce       string
	AuthTime    time.Time
	AMR         []string
	SessionID   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time
	Issued      Issued
	// DPoPJKT is the dpop_jkt of the authorization request (RFC 9449
	// §10): the redemption must carry a proof of that key. "" for none.
	DPoPJKT string
}

// Issued is what a redeemed code or device code issued: the refresh-token
// family (every token of a user grant carries one, refresh token or not)
// and the JWT access token, so that they can be revoked later.
type Issued struct {
	FamilyID        string
	AccessJTI       string
	AccessExpiresAt time.Time
}

// Redemption is what redeeming a code stores with it, in the same
// transaction: what it issued, the first refresh token of the family
// (nil without offline_access) and the opaque access token (nil for a
// JWT).
type Redemption struct {
	Issued  Issued
	Refresh *RefreshToken
	Access  *AccessToken
}

const codeCols = `hash, client_id, user_id, redirect_uri, challenge, api_id, scopes, nonce, auth_time, amr, session_id,
	created_at, expires_at, used_at, family_id, access_jti, access_expires_at, dpop_jkt`

func scanCode(s scanner) (AuthCode, error) {
	var c AuthCode
	var hash []byte
	var api, family, jti sql.NullString
	var scopes, amr string
	var authTime, created, expires, used, accessExp sql.NullInt64
	err := s.Scan(&hash, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Challenge, &api, &scopes, &c.Nonce, &authTime, &amr,
		&c.SessionID, &created, &expires, &used, &family, &jti, &accessExp, &c.DPoPJKT)
	if err != nil {
		return AuthCode{}, notFound(err)
	}
	if len(hash) != 32 {
		return AuthCode{}, fmt.Errorf("authorization code: hash has %d bytes", len(hash))
	}
	c.Hash, c.APIID = [32]byte(hash), api.String
	if c.Scopes, err = decodeStrings(scopes); err != nil {
		return AuthCode{}, fmt.Errorf("authorization code scopes: %w", err)
	}
	if c.AMR, err = decodeList(amr); err != nil {
		return AuthCode{}, fmt.Errorf("authorization code amr: %w", err)
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(authTime), fromMicros(created), fromMicros(expires), fromMicros(used)
	c.Issued = Issued{FamilyID: family.String, AccessJTI: jti.String, AccessExpiresAt: fromMicros(accessExp)}
	return c, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateAuthCode stores a new, unredeemed code. It writes no audit event:
// codes are issued at request rates. It returns ErrNotFound if the
// client, the user or the API does not exist, and ErrConflict if the
// hash is taken.
func (db *DB) CreateAuthCode(ctx context.Context, c AuthCode) error {
	scopes, err := encodeJSON(emptyList(c.Scopes))
	if err != nil {
		return err
	}
	amr, err := encodeJSON(emptyList(c.AMR))
	if err != nil {
		return err
	}
	var times [3]int64
	for i, t := range []time.Time{c.AuthTime, c.CreatedAt, c.ExpiresAt} {
		if times[i], err = mustTime("authorization code time", t); err != nil {
			return fmt.Errorf("create authorization code: %w", err)
		}
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_codes (`+codeCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, NULL, NULL, $14)`,
			c.Hash[:], c.ClientID, c.UserID, c.RedirectURI, c.Challenge, nullString(c.APIID), scopes, c.Nonce,
			times[0], amr, c.SessionID, times[1], times[2], c.DPoPJKT)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("client %s, user %s or api %s: %w", c.ClientID, c.UserID, c.APIID, ErrNotFound)
		}
		return conflict(err)
	})
	if err != nil {
		return fmt.Errorf("create authorization code: %w", err)
	}
	return nil
}

// AuthCodeByHash returns the code with the given hash, redeemed or not,
// or ErrNotFound. It does not judge the code.
func (db *DB) AuthCodeByHash(ctx context.Context, hash [32]byte) (AuthCode, error) {
	c, err := scanCode(db.r.QueryRowContext(ctx, `SELECT `+codeCols+` FROM oauth_codes WHERE hash = $1`, hash[:]))
	if err != nil {
		return AuthCode{}, fmt.Errorf("authorization code: %w", err)
	}
	return c, nil
}

// RedeemAuthCode marks the code with the given hash used at now, records
// what it issued and stores the tokens of r, in one transaction. The mark
// is conditional: of two concurrent redemptions only one succeeds. It
// returns ErrNotFound, or ErrTokenUsed if the code was already redeemed;
// then nothing is written.
func (db *DB) RedeemAuthCode(ctx context.Context, hash [32]byte, now time.Time, r Redemption) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oauth_codes SET used_at = $2, family_id = $3, access_jti = $4,
	access_expires_at = $5 WHERE hash = $1 AND used_at IS NULL`, hash[:], now.UnixMicro(),
			nullString(r.Issued.FamilyID), nullString(r.Issued.AccessJTI), micros(r.Issued.AccessExpiresAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := scanCode(tx.QueryRowContext(ctx, `SELECT `+codeCols+` FROM oauth_codes WHERE hash = $1`, hash[:])); err != nil {
				return err
			}
			return ErrTokenUsed
		}
		return insertRedemption(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("redeem authorization code: %w", err)
	}
	return nil
}

func insertRedemption(ctx context.Context, tx *sql.Tx, r Redemption) error {
	if r.Refresh != nil {
		if err := insertRefresh(ctx, tx, *r.Refresh); err != nil {
			return err
		}
	}
	if r.Access != nil {
		return insertAccess(ctx, tx, *r.Access)
	}
	return nil
}

// RevokeIssued revokes, at now and in one transaction with ev, what a
// code or device code issued: every refresh token of its family, every
// opaque access token of the family, and its JWT access token while it
// is unexpired, and announces them. Revoking twice is not an error.
func (db *DB) RevokeIssued(ctx context.Context, iss Issued, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if iss.FamilyID != "" {
			if err := revokeFamilies(ctx, tx, &out, now, `family_id = $2`, iss.FamilyID); err != nil {
				return err
			}
			if err := revokeAccessWhere(ctx, tx, &out, now, `family_id = $2`, iss.FamilyID); err != nil {
				return err
			}
		}
		if iss.AccessJTI != "" && iss.AccessExpiresAt.After(now) {
			if err := revokeJTITx(ctx, tx, iss.AccessJTI, iss.AccessExpiresAt); err != nil {
				return err
			}
			out.JTIs = append(out.JTIs, iss.AccessJTI)
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke issued tokens: %w", err)
	}
	return out, nil
}

// revokeAccessWhere revokes the opaque access tokens matching cond (on
// oauth_access_tokens, parameters from $2) not yet revoked, adding the
// hashes of those revoked at now to out.
func revokeAccessWhere(ctx context.Context, tx *sql.Tx, out *FamilyRevocation, now time.Time, cond string, args ...any) error {
	params := append([]any{now.UnixMicro()}, args...)
	if _, err := tx.ExecContext(ctx, `UPDATE oauth_access_tokens SET revoked_at = $1 WHERE `+cond+` AND revoked_at IS NULL`, params...); err != nil {
		return err
	}
	hashes, err := queryHashes(ctx, tx, `SELECT hash FROM oauth_access_tokens WHERE `+cond+` AND revoked_at = $1`, params...)
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if !containsHash(out.AccessHashes, h) {
			out.AccessHashes = append(out.AccessHashes, h)
		}
	}
	return nil
}

func containsHash(hs [][32]byte, h [32]byte) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func revokeJTITx(ctx context.Context, tx *sql.Tx, jti string, exp time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`,
		jti, exp.UnixMicro())
	return err
}

// PushedRequest is a pushed authorization request (RFC 9126): the
// authorization parameters a client sent ahead, as JSON, under the
// SHA-256 of the request_uri it got back.
type PushedRequest struct {
	Hash      [32]byte
	ClientID  string
	Params    []byte
	ExpiresAt time.Time
}

// CreatePushedRequest stores p. It returns ErrNotFound if the client does
// not exist.
func (db *DB) CreatePushedRequest(ctx context.Context, p PushedRequest) error {
	params, err := jsonText("pushed request", p.Params)
	if err != nil || !params.Valid {
		return fmt.Errorf("create pushed request: params must be JSON")
	}
	exp, err := mustTime("pushed request expiry", p.ExpiresAt)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_par (hash, client_id, params, expires_at) VALUES ($1, $2, $3, $4)`,
			p.Hash[:], p.ClientID, params, exp)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("client %s: %w", p.ClientID, ErrNotFound)
		}
		return conflict(err)
	})
	if err != nil {
		return fmt.Errorf("create pushed request: %w", err)
	}
	return nil
}

// TakePushedRequest deletes the pushed request with the given hash and
// returns it, so that a request_uri is used once (RFC 9126 §4). A request
// expired at now is deleted and reported as ErrNotFound, like a missing
// one.
func (db *DB) TakePushedRequest(ctx context.Context, hash [32]byte, now time.Time) (PushedRequest, error) {
	var p PushedRequest
	err := db.write(ctx, func(tx *sql.Tx) error {
		var params string
		var exp int64
		err := tx.QueryRowContext(ctx, `SELECT client_id, params, expires_at FROM oauth_par WHERE hash = $1`, hash[:]).
			Scan(&p.ClientID, &params, &exp)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_par WHERE hash = $1`, hash[:]); err != nil {
			return err
		}
		p.Hash, p.Params, p.ExpiresAt = hash, []byte(params), time.UnixMicro(exp).UTC()
		return nil
	})
	if err != nil {
		return PushedRequest{}, fmt.Errorf("take pushed request: %w", err)
	}
	if !now.Before(p.ExpiresAt) {
		return PushedRequest{}, fmt.Errorf("take pushed request: expired: %w", ErrNotFound)
	}
	return p, nil
}
