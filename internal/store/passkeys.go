package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Passkey is one WebAuthn credential of a user (package user). None of
// its fields is a secret: the private key never leaves the authenticator.
type Passkey struct {
	ID     string
	UserID string
	// CredentialID is the id the authenticator chose; it is unique
	// across all users.
	CredentialID []byte
	// PublicKey is the credential's COSE public key.
	PublicKey         []byte
	AttestationType   string
	AttestationFormat string
	AAGUID            []byte
	// SignCount is the signature counter last accepted (0 for
	// authenticators that keep none).
	SignCount      uint32
	Transports     []string
	UserVerified   bool
	BackupEligible bool
	BackupState    bool
	// Name is what the user calls it.
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// PasskeyUse is what a successful assertion changes in its passkey.
type PasskeyUse struct {
	SignCount    uint32
	UserVerified bool
	BackupState  bool
	At           time.Time
}

// PasskeyCeremony is a WebAuthn registration or sign-in under way, stored
// by the SHA-256 of the state token the browser holds. UserID is empty
// for a discoverable sign-in; Session is go-webauthn's session data as
// JSON (the challenge, the allowed credentials), which holds no secret.
type PasskeyCeremony struct {
	Hash      [32]byte
	Kind      string
	UserID    string
	Session   []byte
	ExpiresAt time.Time
}

// ErrStaleSignCount refuses a passkey use whose signature counter is not
// above the one stored: a replayed assertion or a cloned authenticator.
var ErrStaleSignCount = errors.New("the passkey's signature counter did not increase")

const passkeyCols = `id, user_id, credential_id, public_key, attestation_type, attestation_format, aaguid,
	sign_count, transports, user_verified, backup_eligible, backup_state, name, created_at, last_used_at`

func scanPasskey(s scanner) (Passkey, error) {
	var p Passkey
	var count int64
	var transports string
	var created, used sql.NullInt64
	err := s.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &p.AttestationType, &p.AttestationFormat,
		&p.AAGUID, &count, &transports, &p.UserVerified, &p.BackupEligible, &p.BackupState, &p.Name, &created, &used)
	if err != nil {
		return Passkey{}, notFound(err)
	}
	if p.Transports, err = decodeStrings(transports); err != nil {
		return Passkey{}, fmt.Errorf("passkey %s transports: %w", p.ID, err)
	}
	p.SignCount = uint32(count)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromMicros(used)
	return p, nil
}

// PasskeyHandle returns the WebAuthn user handle of the user with the
// given id, storing candidate as that handle if the user has none yet.
// A handle never changes once stored. It returns ErrNotFound if the
// user does not exist.
func (db *DB) PasskeyHandle(ctx context.Context, userID string, candidate []byte) ([]byte, error) {
	var handle []byte
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := scanUser(tx.QueryRowContext(ctx, db.d.userForUpdate, userID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO passkey_handles (user_id, handle) VALUES ($1, $2)
			ON CONFLICT (user_id) DO NOTHING`, userID, candidate)
		if err != nil {
			return conflict(err)
		}
		return tx.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE user_id = $1`, userID).Scan(&handle)
	})
	if err != nil {
		return nil, fmt.Errorf("passkey handle of %s: %w", userID, err)
	}
	return handle, nil
}

// PasskeyHandleOf returns the WebAuthn user handle of the user with the
// given id, or ErrNotFound if they have none (they never registered a
// passkey) or do not exist.
func (db *DB) PasskeyHandleOf(ctx context.Context, userID string) ([]byte, error) {
	var handle []byte
	err := db.r.QueryRowContext(ctx, `SELECT handle FROM passkey_handles WHERE user_id = $1`, userID).Scan(&handle)
	if err != nil {
		return nil, fmt.Errorf("passkey handle of %s: %w", userID, notFound(err))
	}
	return handle, nil
}

// PasskeyHandleUser returns the id of the user whose WebAuthn user
// handle is handle, or ErrNotFound.
func (db *DB) PasskeyHandleUser(ctx context.Context, handle []byte) (string, error) {
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT user_id FROM passkey_handles WHERE handle = $1`, handle).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("passkey handle: %w", notFound(err))
	}
	return id, nil
}

// CreatePasskey stores p and writes ev. It returns ErrConflict if p's id
// or credential id is taken (by any user), ErrNotFound if its user does
// not exist.
func (db *DB) CreatePasskey(ctx context.Context, p Passkey, ev Event) error {
	created, err := mustTime("created time", p.CreatedAt)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	transports, err := encodeJSON(p.Transports)
	if err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	if p.Transports == nil {
		transports = "[]"
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := scanUser(tx.QueryRowContext(ctx, db.d.userForUpdate, p.UserID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			p.ID, p.UserID, p.CredentialID, p.PublicKey, p.AttestationType, p.AttestationFormat, nonNil(p.AAGUID),
			int64(p.SignCount), transports, p.UserVerified, p.BackupEligible, p.BackupState, p.Name, created,
			micros(p.LastUsedAt))
		if err != nil {
			return conflict(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create passkey %s: %w", p.ID, err)
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Passkeys returns the user's passkeys, oldest first.
func (db *DB) Passkeys(ctx context.Context, userID string) ([]Passkey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE user_id = $1
		ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("passkeys of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("passkeys of %s: %w", userID, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("passkeys of %s: %w", userID, err)
	}
	return out, nil
}

// CountPasskeys returns how many passkeys the user has.
func (db *DB) CountPasskeys(ctx context.Context, userID string) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count passkeys of %s: %w", userID, err)
	}
	return n, nil
}

// PasskeyByCredentialID returns the passkey with the given credential id,
// whoever's it is, or ErrNotFound.
func (db *DB) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error) {
	p, err := scanPasskey(db.r.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys WHERE credential_id = $1`,
		credentialID))
	if err != nil {
		return Passkey{}, fmt.Errorf("passkey by credential id: %w", err)
	}
	return p, nil
}

// RenamePasskey lets update change the name of the user's passkey id,
// saves it and writes the event update returns, in one transaction. An
// error of update is returned unchanged and nothing is written. It
// returns ErrNotFound if the user has no such passkey.
func (db *DB) RenamePasskey(ctx context.Context, userID, id string, update func(*Passkey) (Event, error)) (Passkey, error) {
	var p Passkey
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPasskey(tx.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM passkeys
			WHERE id = $1 AND user_id = $2`, id, userID))
		if err != nil {
			return err
		}
		ev, err := update(&p)
		if err != nil {
			return callbackError{err}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE passkeys SET name = $2 WHERE id = $1`, id, p.Name); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return Passkey{}, wrapUnlessCallback(err, "rename passkey "+id)
	}
	return p, nil
}

// DeletePasskey deletes the user's passkey id and writes the event made
// of it. It returns ErrNotFound if the user has no such passkey.
func (db *DB) DeletePasskey(ctx context.Context, userID, id string, event func(Passkey) (Event, error)) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		p, err := scanPasskey(tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2
			RETURNING `+passkeyCols, id, userID))
		if err != nil {
			return err
		}
		ev, err := event(p)
		if err != nil {
			return callbackError{err}
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return wrapUnlessCallback(err, "delete passkey "+id)
	}
	return nil
}

// UsePasskey records a successful assertion of passkey id: its new
// signature counter, flags and time of use. The counter must increase,
// unless both the stored and the new one are 0 (an authenticator that
// keeps no counter); otherwise nothing changes and it returns
// ErrStaleSignCount. The check and the write are one statement, so of two
// concurrent uses of one assertion only one succeeds. It returns
// ErrNotFound if the passkey is gone.
func (db *DB) UsePasskey(ctx context.Context, id string, u PasskeyUse) error {
	at, err := mustTime("use time", u.At)
	if err != nil {
		return fmt.Errorf("use passkey %s: %w", id, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = $2, user_verified = $3, backup_state = $4,
			last_used_at = $5 WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`,
			id, int64(u.SignCount), u.UserVerified, u.BackupState, at)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM passkeys WHERE id = $1`, id).Scan(&exists); err != nil {
			return notFound(err)
		}
		return ErrStaleSignCount
	})
	if err != nil {
		return fmt.Errorf("use passkey %s: %w", id, err)
	}
	return nil
}

// CreatePasskeyCeremony stores c, first deleting the ceremonies that
// expired by now, so that abandoned ceremonies do not pile up.
func (db *DB) CreatePasskeyCeremony(ctx context.Context, c PasskeyCeremony, now time.Time) error {
	expires, err := mustTime("expiry", c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create passkey ceremony: %w", err)
	}
	user := sql.NullString{String: c.UserID, Valid: c.UserID != ""}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkey_ceremonies WHERE expires_at <= $1`, now.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO passkey_ceremonies (hash, kind, user_id, session, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, c.Hash[:], c.Kind, user, string(c.Session), expires)
		if isForeignKeyViolation(err) {
			return ErrNotFound
		}
		return conflict(err)
	})
	if err != nil {
		return fmt.Errorf("create passkey ceremony: %w", err)
	}
	return nil
}

// TakePasskeyCeremony deletes and returns the ceremony of kind whose
// state token hashes to hash, if it has not expired at now. A ceremony
// can be taken once. It returns ErrNotFound for one that is unknown,
// taken, expired or of another kind.
func (db *DB) TakePasskeyCeremony(ctx context.Context, hash [32]byte, kind string, now time.Time) (PasskeyCeremony, error) {
	c := PasskeyCeremony{Hash: hash, Kind: kind}
	var user sql.NullString
	var session string
	var expires int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM passkey_ceremonies WHERE hash = $1 AND kind = $2 AND expires_at > $3
			RETURNING user_id, session, expires_at`, hash[:], kind, now.UnixMicro()).Scan(&user, &session, &expires)
	})
	if err != nil {
		return PasskeyCeremony{}, fmt.Errorf("take passkey ceremony: %w", notFound(err))
	}
	c.UserID, c.Session, c.ExpiresAt = user.String, []byte(session), time.UnixMicro(expires).UTC()
	return c, nil
}
