package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// TakeMFAAttempt asks the throttle whether the user may try a
// second-factor code at now, and if so counts the attempt as a failure
// until ClearMFAAttempts says it was right: so that many codes tried at
// once are counted before any is checked. A count whose last attempt is
// older than forget starts again at zero. After counting, lock(failures)
// is how long the user must wait before the next attempt (0: not at all).
// Attempts are serialized per user, in one transaction, on every node.
// It returns ErrNotFound if there is no such user.
func (db *DB) TakeMFAAttempt(ctx context.Context, userID string, now time.Time, forget time.Duration, lock func(failures int) time.Duration) (MFAAttempt, error) {
	var a MFAAttempt
	err := db.write(ctx, func(tx *sql.Tx) error {
		var lastAt, lockedUntil int64
		// The upsert locks the row (PostgreSQL) until commit, so
		// concurrent attempts of one user queue here.
		err := tx.QueryRowContext(ctx, `INSERT INTO mfa_attempts (user_id, failures, last_at, locked_until)
VALUES ($1, 0, $2, 0)
ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id
RETURNING failures, last_at, locked_until`, userID, now.UnixMicro()).Scan(&a.Failures, &lastAt, &lockedUntil)
		if isForeignKeyViolation(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if now.UnixMicro() < lockedUntil {
			a.LockedUntil = time.UnixMicro(lockedUntil).UTC()
			return nil
		}
		if now.Sub(time.UnixMicro(lastAt)) > forget {
			a.Failures = 0
		}
		a.Allowed = true
		a.Failures++
		until := int64(0)
		if d := lock(a.Failures); d > 0 {
			a.LockedUntil = now.Add(d).UTC()
			until = a.LockedUntil.UnixMicro()
		}
		_, err = tx.ExecContext(ctx, `UPDATE mfa_attempts SET failures = $2, last_at = $3, locked_until = $4
WHERE user_id = $1`, userID, a.Failures, now.UnixMicro(), until)
		return err
	})
	if err != nil {
		return MFAAttempt{}, fmt.Errorf("take mfa attempt of %s: %w", userID, err)
	}
	return a, nil
}

// ClearMFAAttempts forgets the user's counted attempts: their last code
// was right.
func (db *DB) ClearMFAAttempts(ctx context.Context, userID string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM mfa_attempts WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear mfa attempts of %s: %w", userID, err)
	}
	return nil
}
