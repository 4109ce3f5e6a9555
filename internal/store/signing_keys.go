package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SigningKey is one JWT signing key as stored. The store never sees the
// private key in clear: Sealed is whatever the signer encrypted (a nonce
// and an AES-256-GCM ciphertext, in tokend's case). PublicJWK is the public
// JWK as JSON. A key signs from ActiveAt until RetiredAt and is published
// until ExpiresAt; zero RetiredAt and ExpiresAt mean "not yet".
type SigningKey struct {
	KID string
	Alg string
	// Role groups keys that rotate together: "" for the keys of the
	// configured algorithm, "rsa" for the RS256 keys kept beside them for
	// ID tokens. A rotation retires the keys of its own role only.
	Role      string
	PublicJWK []byte
	Sealed    []byte
	CreatedAt time.Time
	ActiveAt  time.Time
	RetiredAt time.Time
	ExpiresAt time.Time
}

const signingKeyCols = `kid, alg, public_jwk, sealed, created_at, active_at, retired_at, expires_at, role`

func scanSigningKey(s scanner) (SigningKey, error) {
	var k SigningKey
	var jwk string
	var created, active, retired, expires sql.NullInt64
	if err := s.Scan(&k.KID, &k.Alg, &jwk, &k.Sealed, &created, &active, &retired, &expires, &k.Role); err != nil {
		return SigningKey{}, notFound(err)
	}
	k.PublicJWK = []byte(jwk)
	k.CreatedAt, k.ActiveAt = fromMicros(created), fromMicros(active)
	k.RetiredAt, k.ExpiresAt = fromMicros(retired), fromMicros(expires)
	return k, nil
}

// signingKeyLock serializes rotations across PostgreSQL nodes for the rest
// of the transaction; a row lock would not stop a concurrent insert. On
// SQLite the immediate write transaction already holds the database lock.
func (db *DB) lockSigningKeys(ctx context.Context, tx *sql.Tx) error {
	if db.d.name != "postgres" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7346916150231846492)`)
	return err
}

// RotateSigningKey adds k as the newest signing key of its role unless a
// rotation of that role already happened, in one transaction serialized against every other
// rotation, on every node. If the newest key of the role (by ActiveAt) activates at or
// after unlessNewerThan, it returns that key with created false and writes
// nothing; a zero unlessNewerThan means "create k only if the role has no key
// at all". Otherwise it inserts k, retires every key of the role not yet retired at
// k.ActiveAt, keeping each published until k.ActiveAt+publishFor, writes
// ev, announces the new key set, and returns k with created true. k must have KID, Alg, PublicJWK,
// Sealed, CreatedAt and ActiveAt set, and zero RetiredAt and ExpiresAt.
// It returns ErrConflict if k.KID is taken.
func (db *DB) RotateSigningKey(ctx context.Context, k SigningKey, unlessNewerThan time.Time, publishFor time.Duration, ev Event) (SigningKey, bool, error) {
	if k.KID == "" || k.Alg == "" || len(k.PublicJWK) == 0 || len(k.Sealed) == 0 || !k.RetiredAt.IsZero() || !k.ExpiresAt.IsZero() {
		return SigningKey{}, false, fmt.Errorf("rotate signing key %s: incomplete or already retired key", k.KID)
	}
	created, err := mustTime("created time", k.CreatedAt)
	if err != nil {
		return SigningKey{}, false, fmt.Errorf("rotate signing key %s: %w", k.KID, err)
	}
	active, err := mustTime("active time", k.ActiveAt)
	if err != nil {
		return SigningKey{}, false, fmt.Errorf("rotate signing key %s: %w", k.KID, err)
	}
	out, made := k, false
	err = db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if err := db.lockSigningKeys(ctx, tx); err != nil {
			return err
		}
		newest, err := scanSigningKey(tx.QueryRowContext(ctx, `SELECT `+signingKeyCols+` FROM signing_keys
WHERE role = $1 ORDER BY active_at DESC, kid DESC LIMIT 1`, k.Role))
		switch {
		case err == nil && (unlessNewerThan.IsZero() || !newest.ActiveAt.Before(unlessNewerThan)):
			out = newest
			return nil
		case err != nil && !errors.Is(err, ErrNotFound):
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = $1, expires_at = $2
WHERE retired_at IS NULL AND role = $3`, active, k.ActiveAt.Add(publishFor).UnixMicro(), k.Role)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (`+signingKeyCols+`)
VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)`, k.KID, k.Alg, string(k.PublicJWK), k.Sealed, created, active, k.Role)
		if err != nil {
			return conflict(err)
		}
		made, c.SigningKeys = true, true
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return SigningKey{}, false, fmt.Errorf("rotate signing key %s: %w", k.KID, err)
	}
	return out, made, nil
}

// ListSigningKeys returns every stored signing key, expired ones included
// until DeleteExpiredSigningKeys removes them, oldest ActiveAt first.
func (db *DB) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+signingKeyCols+` FROM signing_keys ORDER BY active_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		k, err := scanSigningKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list signing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return out, nil
}

// DeleteExpiredSigningKeys deletes the keys whose ExpiresAt is at or
// before the given time, private material included, and reports how
// many. It writes no event (the rotation that retired them was logged),
// and announces the new key set when it deleted any.
func (db *DB) DeleteExpiredSigningKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at <= $1`,
			before.UnixMicro())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		c.SigningKeys = n > 0
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired signing keys: %w", err)
	}
	return n, nil
}

// RevokeJTI records that the JWT with the given jti is revoked until
// expiresAt, when the JWT expires anyway, writes ev and announces the
// jti. Revoking a jti
// twice is not an error; the second call changes nothing and writes no
// event.
func (db *DB) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time, ev Event) error {
	exp, err := mustTime("expiry", expiresAt)
	if err != nil || jti == "" {
		return fmt.Errorf("revoke jti %q: need a jti and an expiry", jti)
	}
	err = db.change(ctx, func(tx *sql.Tx, c *Change) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2)
ON CONFLICT (jti) DO NOTHING`, jti, exp)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		c.JTIs = []string{jti}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("revoke jti %q: %w", jti, err)
	}
	return nil
}

// IsJTIRevoked reports whether RevokeJTI recorded jti and
// DeleteExpiredJTIs has not yet removed it.
func (db *DB) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM revoked_jtis WHERE jti = $1`, jti).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is jti %q revoked: %w", jti, err)
	}
	return n > 0, nil
}

// DeleteExpiredJTIs forgets the revoked jtis whose JWTs expired before the
// given time, and reports how many. Pass a time some leeway in the past:
// a verifier accepts a JWT slightly after its expiry.
func (db *DB) DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error) {
	return db.deleteBefore(ctx, "delete expired jtis", `DELETE FROM revoked_jtis WHERE expires_at < $1`, before)
}

func (db *DB) deleteBefore(ctx context.Context, what, q string, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, q, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}
