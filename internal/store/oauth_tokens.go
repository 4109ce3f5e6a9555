package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const accessCols = `t.hash, t.id, t.client_id, t.api_id, t.subject, t.scopes, t.family_id, t.created_at, t.expires_at, t.revoked_at, t.jkt`

func scanAccess(s scanner, extra ...any) (AccessToken, error) {
	var t AccessToken
	var hash []byte
	var scopes string
	var family sql.NullString
	var created, expires, revoked sql.NullInt64
	dest := append([]any{&hash, &t.ID, &t.ClientID, &t.APIID, &t.Subject, &scopes, &family, &created, &expires, &revoked, &t.JKT}, extra...)
	if err := s.Scan(dest...); err != nil {
		return AccessToken{}, notFound(err)
	}
	if len(hash) != 32 {
		return AccessToken{}, fmt.Errorf("access token %s: hash has %d bytes", t.ID, len(hash))
	}
	t.Hash = [32]byte(hash)
	var err error
	if t.Scopes, err = decodeStrings(scopes); err != nil {
		return AccessToken{}, fmt.Errorf("access token %s scopes: %w", t.ID, err)
	}
	t.FamilyID = family.String
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
	return t, nil
}

func insertAccess(ctx context.Context, tx *sql.Tx, t AccessToken) error {
	scopes, err := encodeJSON(t.Scopes)
	if err != nil {
		return err
	}
	created, err := mustTime("access token created time", t.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := mustTime("access token expiry", t.ExpiresAt)
	if err != nil {
		return err
	}
	family := sql.NullString{String: t.FamilyID, Valid: t.FamilyID != ""}
	_, err = tx.ExecContext(ctx, `INSERT INTO oauth_access_tokens
	(hash, id, client_id, api_id, subject, scopes, family_id, created_at, expires_at, revoked_at, jkt)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.Hash[:], t.ID, t.ClientID, t.APIID, t.Subject, scopes, family, created, expires, micros(t.RevokedAt), t.JKT)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("client %s or api %s: %w", t.ClientID, t.APIID, ErrNotFound)
	}
	return conflict(err)
}

// CreateAccessToken stores an opaque access token. It writes no audit
// event: access tokens are issued at request rates, like verifications.
// It returns ErrNotFound if the client or API does not exist, and
// ErrConflict if the hash is taken.
func (db *DB) CreateAccessToken(ctx context.Context, t AccessToken) error {
	err := db.write(ctx, func(tx *sql.Tx) error { return insertAccess(ctx, tx, t) })
	if err != nil {
		return fmt.Errorf("create access token: %w", err)
	}
	return nil
}

// AccessTokenByHash returns the opaque access token with the given hash
// and its API's audience, or ErrNotFound. It does not judge the token:
// the caller checks expiry and revocation.
func (db *DB) AccessTokenByHash(ctx context.Context, hash [32]byte) (AccessRecord, error) {
	var rec AccessRecord
	var err error
	rec.Token, err = scanAccess(db.r.QueryRowContext(ctx, `SELECT `+accessCols+`, a.audience
FROM oauth_access_tokens t JOIN apis a ON a.id = t.api_id WHERE t.hash = $1`, hash[:]), &rec.Audience)
	if err != nil {
		return AccessRecord{}, fmt.Errorf("access token by hash: %w", err)
	}
	return rec, nil
}

// RevokeAccessToken marks the opaque access token with the given hash
// revoked at now, writes ev and announces the token, unless it is already
// revoked, in which case it changes nothing and reports false. It returns
// ErrNotFound.
func (db *DB) RevokeAccessToken(ctx context.Context, hash [32]byte, now time.Time, ev Event) (bool, error) {
	var changed bool
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		res, err := tx.ExecContext(ctx, `UPDATE oauth_access_tokens SET revoked_at = $2
WHERE hash = $1 AND revoked_at IS NULL`, hash[:], now.UnixMicro())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var c int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oauth_access_tokens WHERE hash = $1`, hash[:]).Scan(&c); err != nil {
				return err
			}
			if c == 0 {
				return ErrNotFound
			}
			return nil
		}
		changed = true
		c.Secrets = [][32]byte{hash}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return false, fmt.Errorf("revoke access token: %w", err)
	}
	return changed, nil
}

const refreshCols = `hash, id, family_id, client_id, api_id, subject, scopes, access_jti, access_expires_at,
	created_at, expires_at, used_at, revoked_at, jkt, ip`

func scanRefresh(s scanner) (RefreshToken, error) {
	var t RefreshToken
	var hash []byte
	var scopes string
	var jti sql.NullString
	var accessExp, created, expires, used, revoked sql.NullInt64
	err := s.Scan(&hash, &t.ID, &t.FamilyID, &t.ClientID, &t.APIID, &t.Subject, &scopes, &jti, &accessExp,
		&created, &expires, &used, &revoked, &t.JKT, &t.IP)
	if err != nil {
		return RefreshToken{}, notFound(err)
	}
	if len(hash) != 32 {
		return RefreshToken{}, fmt.Errorf("refresh token %s: hash has %d bytes", t.ID, len(hash))
	}
	t.Hash = [32]byte(hash)
	if t.Scopes, err = decodeStrings(scopes); err != nil {
		return RefreshToken{}, fmt.Errorf("refresh token %s scopes: %w", t.ID, err)
	}
	t.AccessJTI, t.AccessExpiresAt = jti.String, fromMicros(accessExp)
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	t.UsedAt, t.RevokedAt = fromMicros(used), fromMicros(revoked)
	return t, nil
}

func insertRefresh(ctx context.Context, tx *sql.Tx, t RefreshToken) error {
	scopes, err := encodeJSON(t.Scopes)
	if err != nil {
		return err
	}
	created, err := mustTime("refresh token created time", t.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := mustTime("refresh token expiry", t.ExpiresAt)
	if err != nil {
		return err
	}
	jti := sql.NullString{String: t.AccessJTI, Valid: t.AccessJTI != ""}
	_, err = tx.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (`+refreshCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		t.Hash[:], t.ID, t.FamilyID, t.ClientID, t.APIID, t.Subject, scopes, jti, micros(t.AccessExpiresAt),
		created, expires, micros(t.UsedAt), micros(t.RevokedAt), t.JKT, t.IP)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("client %s or api %s: %w", t.ClientID, t.APIID, ErrNotFound)
	}
	return conflict(err)
}

// IssueRefreshToken stores the first refresh token of a new family and
// the opaque access token issued with it (when at is not nil), in one
// transaction. It writes no audit event: families are started at request
// rates, like access tokens. It returns ErrNotFound if the client or API
// does not exist.
func (db *DB) IssueRefreshToken(ctx context.Context, rt RefreshToken, at *AccessToken) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := insertRefresh(ctx, tx, rt); err != nil {
			return err
		}
		if at != nil {
			if err := insertAccess(ctx, tx, *at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("issue refresh token: %w", err)
	}
	return nil
}

// RefreshTokenByHash returns the refresh token with the given hash, or
// ErrNotFound. It does not judge the token.
func (db *DB) RefreshTokenByHash(ctx context.Context, hash [32]byte) (RefreshToken, error) {
	t, err := scanRefresh(db.r.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM oauth_refresh_tokens WHERE hash = $1`, hash[:]))
	if err != nil {
		return RefreshToken{}, fmt.Errorf("refresh token by hash: %w", err)
	}
	return t, nil
}

// RotateRefreshToken marks the refresh token with hash old used at now
// and stores its successor next (same family), the opaque access token
// issued with it (when at is not nil), in one transaction, and marks the
// grant of next's subject to its client (if any) used at now; like
// IssueRefreshToken it writes no audit event. The mark is conditional, so
// of two concurrent rotations of one token only one succeeds. It returns
// ErrNotFound, or ErrTokenUsed if the token was already used or revoked;
// then nothing is written.
func (db *DB) RotateRefreshToken(ctx context.Context, old [32]byte, now time.Time, next RefreshToken, at *AccessToken) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET used_at = $2
WHERE hash = $1 AND used_at IS NULL AND revoked_at IS NULL`, old[:], now.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := scanRefresh(tx.QueryRowContext(ctx, `SELECT `+refreshCols+` FROM oauth_refresh_tokens WHERE hash = $1`, old[:])); err != nil {
				return err
			}
			return ErrTokenUsed
		}
		if err := insertRefresh(ctx, tx, next); err != nil {
			return err
		}
		if at != nil {
			if err := insertAccess(ctx, tx, *at); err != nil {
				return err
			}
		}
		// A refresh uses the person's grant to the client: the admin
		// list's "unused" filter must not count it idle.
		_, err = tx.ExecContext(ctx, `UPDATE oauth_grants SET last_used_at = $3 WHERE user_id = $1 AND client_id = $2`,
			next.Subject, next.ClientID, now.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshFamily revokes, at now and in one transaction with ev,
// every refresh token of the family, every opaque access token issued
// with them, and every unexpired JWT access token issued with them (by
// adding its jti to the revoked JWT ids until it expires), and announces
// them. Revoking a revoked family revokes what is left and is not an
// error.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if err := revokeFamilies(ctx, tx, &out, now, `family_id = $2`, familyID); err != nil {
			return err
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke refresh family %s: %w", familyID, err)
	}
	return out, nil
}

// RevokeClientFamilies revokes, as RevokeRefreshFamily does and in one
// transaction with ev, every refresh-token family of client clientID for
// each of the APIs apiIDs, with the access tokens issued with them, and
// announces them. It writes ev even when there was nothing left to
// revoke.
func (db *DB) RevokeClientFamilies(ctx context.Context, clientID string, apiIDs []string, now time.Time, ev Event) (FamilyRevocation, error) {
	var out FamilyRevocation
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		for _, api := range apiIDs {
			if err := revokeFamilies(ctx, tx, &out, now, `client_id = $2 AND api_id = $3`, clientID, api); err != nil {
				return err
			}
		}
		c.Secrets, c.JTIs = out.AccessHashes, out.JTIs
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return FamilyRevocation{}, fmt.Errorf("revoke refresh families of client %s: %w", clientID, err)
	}
	return out, nil
}

// revokeFamilies revokes, within tx and at now ($1), the families whose
// refresh tokens match cond (a condition on oauth_refresh_tokens whose
// parameters, args, are numbered from $2), adding what it reached to out.
func revokeFamilies(ctx context.Context, tx *sql.Tx, out *FamilyRevocation, now time.Time, cond string, args ...any) error {
	at := now.UnixMicro()
	params := append([]any{at}, args...)
	families := `family_id IN (SELECT family_id FROM oauth_refresh_tokens WHERE ` + cond + `)`
	if _, err := tx.ExecContext(ctx, `UPDATE oauth_access_tokens SET revoked_at = $1
WHERE `+families+` AND revoked_at IS NULL`, params...); err != nil {
		return err
	}
	hashes, err := queryHashes(ctx, tx, `SELECT hash FROM oauth_access_tokens
WHERE `+families+` AND revoked_at = $1`, params...)
	if err != nil {
		return err
	}
	out.AccessHashes = append(out.AccessHashes, hashes...)
	rows, err := tx.QueryContext(ctx, `SELECT access_jti, access_expires_at FROM oauth_refresh_tokens
WHERE `+families+` AND access_jti IS NOT NULL AND access_expires_at > $1`, params...)
	if err != nil {
		return err
	}
	var jtis []string
	var exps []int64
	for rows.Next() {
		var jti string
		var exp int64
		if err := rows.Scan(&jti, &exp); err != nil {
			rows.Close()
			return err
		}
		jtis, exps = append(jtis, jti), append(exps, exp)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET revoked_at = $1
WHERE `+families+` AND revoked_at IS NULL`, params...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	out.RefreshTokens += n
	for i, jti := range jtis {
		if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2)
ON CONFLICT (jti) DO NOTHING`, jti, exps[i]); err != nil {
			return err
		}
	}
	out.JTIs = append(out.JTIs, jtis...)
	return nil
}

// UseAssertionJTI records that the client assertion jti of clientID was
// used; it is remembered until expiresAt. It returns ErrConflict if the
// pair was recorded before and has not been swept: a replay.
func (db *DB) UseAssertionJTI(ctx context.Context, clientID, jti string, expiresAt time.Time) error {
	exp, err := mustTime("assertion expiry", expiresAt)
	if err != nil {
		return fmt.Errorf("use assertion jti: %w", err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3)`,
			clientID, jti, exp)
		return conflict(err)
	})
	if err != nil {
		return fmt.Errorf("use assertion jti: %w", err)
	}
	return nil
}

// DeleteExpiredOAuth deletes up to batch opaque access tokens, up to
// batch refresh tokens, assertion jtis, authorization codes, device codes
// and pushed requests that expired before
// cutoff, in one short transaction, and returns how many rows went; call
// it again until it returns 0. Such rows can never be accepted again; a
// used refresh token stays until it expires, so that its reuse is still
// detected.
func (db *DB) DeleteExpiredOAuth(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	if batch < 1 {
		return 0, fmt.Errorf("delete expired oauth tokens: batch %d is less than 1", batch)
	}
	var total int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM oauth_access_tokens WHERE hash IN
	(SELECT hash FROM oauth_access_tokens WHERE expires_at < $1 LIMIT $2)`,
			`DELETE FROM oauth_refresh_tokens WHERE hash IN
	(SELECT hash FROM oauth_refresh_tokens WHERE expires_at < $1 LIMIT $2)`,
			`DELETE FROM oauth_assertion_jtis WHERE (client_id, jti) IN
	(SELECT client_id, jti FROM oauth_assertion_jtis WHERE expires_at < $1 LIMIT $2)`,
			// Codes stay while the JWT they issued lives: revoking their
			// grant must still reach it.
			`DELETE FROM oauth_codes WHERE hash IN (SELECT hash FROM oauth_codes
	WHERE expires_at < $1 AND (access_expires_at IS NULL OR access_expires_at < $1) LIMIT $2)`,
			`DELETE FROM oauth_device_codes WHERE hash IN (SELECT hash FROM oauth_device_codes
	WHERE expires_at < $1 AND (access_expires_at IS NULL OR access_expires_at < $1) LIMIT $2)`,
			`DELETE FROM oauth_par WHERE hash IN (SELECT hash FROM oauth_par WHERE expires_at < $1 LIMIT $2)`,
		} {
			res, err := tx.ExecContext(ctx, q, cutoff.UnixMicro(), batch)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired oauth tokens: %w", err)
	}
	return total, nil
}
