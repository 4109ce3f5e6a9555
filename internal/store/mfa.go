package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// TOTP is a user's authenticator-app secret (package user). Sealed is the
// secret encrypted under the key-encryption key: the store never holds
// it in clear. ConfirmedAt is zero while the enrolment waits for its
// first code. LastStep is the RFC 6238 time step of the last code
// accepted (0: none), so that each code works once.
type TOTP struct {
	UserID      string
	Sealed      []byte
	CreatedAt   time.Time
	ConfirmedAt time.Time
	LastStep    int64
}

// RecoveryCode is one single-use recovery code, stored by the SHA-256 of
// the code (package user salts it with the user id).
type RecoveryCode struct {
	Hash      [32]byte
	CreatedAt time.Time
}

// MFA is what the store holds of a user's second factors: whether a
// confirmed TOTP exists, how many recovery codes are left, and how many
// passkeys the user has.
type MFA struct {
	TOTP          bool
	RecoveryCodes int
	Passkeys      int
}

// MFAAttempt is the throttle's answer to one second-factor code: Allowed,
// or refused until LockedUntil. Failures counts the codes tried since the
// last right one, this one included when allowed.
type MFAAttempt struct {
	Allowed     bool
	Failures    int
	LockedUntil time.Time
}

// PutPendingTOTP stores t, whose ConfirmedAt must be zero, as the user's
// TOTP enrolment, replacing an earlier pending one. It returns ErrConflict
// if the user has a confirmed TOTP, and ErrNotFound if there is no such
// user.
func (db *DB) PutPendingTOTP(ctx context.Context, t TOTP) error {
	created, err := mustTime("created time", t.CreatedAt)
	if err != nil || !t.ConfirmedAt.IsZero() || len(t.Sealed) == 0 {
		return fmt.Errorf("put pending totp of %s: need a sealed secret, a created time and no confirmation (%v)", t.UserID, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := scanUser(tx.QueryRowContext(ctx, db.d.userForUpdate, t.UserID)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO totp_secrets (user_id, sealed, created_at, confirmed_at, last_step)
VALUES ($1, $2, $3, NULL, 0)
ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at, last_step = 0
WHERE totp_secrets.confirmed_at IS NULL`, t.UserID, t.Sealed, created)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return conflictOr(err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put pending totp of %s: %w", t.UserID, err)
	}
	return nil
}

func conflictOr(err error) error {
	if err != nil {
		return err
	}
	return ErrConflict
}

// TOTPOf returns the user's TOTP, pending or confirmed, or ErrNotFound.
func (db *DB) TOTPOf(ctx context.Context, userID string) (TOTP, error) {
	t := TOTP{UserID: userID}
	var created, confirmed sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT sealed, created_at, confirmed_at, last_step FROM totp_secrets
WHERE user_id = $1`, userID).Scan(&t.Sealed, &created, &confirmed, &t.LastStep)
	if err != nil {
		return TOTP{}, fmt.Errorf("totp of %s: %w", userID, notFound(err))
	}
	t.CreatedAt, t.ConfirmedAt = fromMicros(created), fromMicros(confirmed)
	return t, nil
}

// ConfirmTOTP confirms the user's pending TOTP created at createdAt, at
// now, with the first code's time step, replaces the user's recovery
// codes with codes and writes ev, in one transaction. It returns
// ErrNotFound if there is no such pending TOTP (none, a newer one, or
// one already confirmed), and ErrConflict if a code's hash is taken.
func (db *DB) ConfirmTOTP(ctx context.Context, userID string, createdAt time.Time, step int64, now time.Time, codes []RecoveryCode, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET confirmed_at = $2, last_step = $3
WHERE user_id = $1 AND confirmed_at IS NULL AND created_at = $4`, userID, now.UnixMicro(), step, createdAt.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFoundOr(err)
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("confirm totp of %s: %w", userID, err)
	}
	return nil
}

// UseTOTPStep records that a code of the given time step was accepted
// for the user, if it is later than every step accepted before: the one
// atomic check that makes each code single-use, even between nodes. It
// returns ErrConflict if the step is not later (a reused or older code)
// or the user has no confirmed TOTP.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := db.w.ExecContext(ctx, `UPDATE totp_secrets SET last_step = $2
WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2`, userID, step)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("use totp step of %s: %w", userID, err)
	}
	return nil
}

// DeleteTOTP deletes the user's TOTP, pending or confirmed, and their
// recovery codes, and writes ev. It returns ErrNotFound if the user has
// no TOTP.
func (db *DB) DeleteTOTP(ctx context.Context, userID string, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFoundOr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("delete totp of %s: %w", userID, err)
	}
	return nil
}

// ReplaceRecoveryCodes replaces the user's recovery codes with codes and
// writes ev. It returns ErrNotFound if the user has no confirmed TOTP,
// and ErrConflict if a code's hash is taken.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, codes []RecoveryCode, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL`,
			userID).Scan(&one)
		if err != nil {
			return notFound(err)
		}
		if err := replaceRecoveryCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("replace recovery codes of %s: %w", userID, err)
	}
	return nil
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID string, codes []RecoveryCode) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, c := range codes {
		created, err := mustTime("recovery code created time", c.CreatedAt)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO recovery_codes (hash, user_id, created_at) VALUES ($1, $2, $3)`,
			c.Hash[:], userID, created)
		if err != nil {
			return conflict(err)
		}
	}
	return nil
}

// UseRecoveryCode deletes the user's recovery code whose hash is hash and
// writes ev, in one transaction: a code works once, and of two uses at
// the same time one wins. It returns ErrNotFound for a code the user
// does not have (unknown, used, or another user's).
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, hash [32]byte, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE hash = $1 AND user_id = $2`, hash[:], userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFoundOr(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("use recovery code of %s: %w", userID, err)
	}
	return nil
}

// MFAOf returns what the store holds of the user's second factors; a
// user without any (or no such user) has the zero MFA.
func (db *DB) MFAOf(ctx context.Context, userID string) (MFA, error) {
	var m MFA
	var totp int
	err := db.r.QueryRowContext(ctx, `SELECT
	(SELECT count(*) FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL),
	(SELECT count(*) FROM recovery_codes WHERE user_id = $1),
	(SELECT count(*) FROM passkeys WHERE user_id = $1)`, userID).Scan(&totp, &m.RecoveryCodes, &m.Passkeys)
	if err != nil {
		return MFA{}, fmt.Errorf("mfa of %s: %w", userID, err)
	}
	m.TOTP = totp > 0
	return m, nil
}

// ResetMFA removes every second factor of the user (TOTP, pending or
// confirmed, recovery codes, passkeys and passkey ceremonies under way;
// the WebAuthn user handle stays, as it does for the user's life) and the
// throttle's count, ends every session of the user (announcing their
// tokens, as DeleteUserSessions does) and writes ev, in one transaction. It returns what the user had, or ErrNotFound if
// there is no such user.
func (db *DB) ResetMFA(ctx context.Context, userID string, ev func(before MFA) (Event, error)) (MFA, error) {
	var before MFA
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if _, err := scanUser(tx.QueryRowContext(ctx, db.d.userForUpdate, userID)); err != nil {
			return err
		}
		totp, err := deleteCount(ctx, tx, `DELETE FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID)
		if err != nil {
			return err
		}
		before.TOTP = totp > 0
		if before.RecoveryCodes, err = deleteCount(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if before.Passkeys, err = deleteCount(ctx, tx, `DELETE FROM passkeys WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM totp_secrets WHERE user_id = $1`, `DELETE FROM mfa_attempts WHERE user_id = $1`,
			`DELETE FROM passkey_ceremonies WHERE user_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return err
			}
		}
		hs, err := queryHashes(ctx, tx, `DELETE FROM sessions WHERE user_id = $1 RETURNING hash`, userID)
		if err != nil {
			return err
		}
		c.Secrets = hs
		e, err := ev(before)
		if err != nil {
			return callbackError{err}
		}
		return insertEvent(ctx, tx, e)
	})
	if err != nil {
		return MFA{}, wrapUnlessCallback(err, "reset mfa of "+userID)
	}
	return before, nil
}

func deleteCount(ctx context.Context, tx *sql.Tx, q string, args ...any) (int, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
