package user

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// The second-factor throttle: a wrong code counts like a failed sign-in.
// The first mfaFreeAttempts codes since the last right one are free; each
// further one locks the user's codes for mfaLockBase, doubling, up to
// mfaLockMax: temporary, never a lock an attacker could make permanent.
// Attempts are counted in the store, so every node sees the same count,
// and before the code is checked, so that many codes sent at once are
// all counted. A count with no attempt for mfaForget starts again.
const (
	mfaFreeAttempts = 5
	mfaLockBase     = 30 * time.Second
	mfaLockMax      = 15 * time.Minute
	mfaForget       = time.Hour
)

// CodeThrottledError refuses a second-factor code while the user's codes
// are locked after too many wrong ones. RetryAfter is how long is left.
type CodeThrottledError struct{ RetryAfter time.Duration }

func (e *CodeThrottledError) Error() string {
	return fmt.Sprintf("too many wrong codes; try again in %s", e.RetryAfter.Round(time.Second))
}

// mfaLock is how long the user waits after the failures-th attempt.
func mfaLock(failures int) time.Duration {
	if failures < mfaFreeAttempts {
		return 0
	}
	d := mfaLockBase
	for i := mfaFreeAttempts; i < failures && d < mfaLockMax; i++ {
		d *= 2
	}
	return min(d, mfaLockMax)
}

// attempt runs check, which tries one code of the given kind ("totp",
// "recovery_code"), under the throttle: it refuses with
// *CodeThrottledError while the user is locked, counts the attempt, and
// forgets the count when check succeeds. A refusal (ErrInvalidCode) is
// an audit event.
func (s *Service) attempt(ctx context.Context, userID, kind string, check func() error) error {
	now := s.clock()
	a, err := s.db.TakeMFAAttempt(ctx, userID, now, mfaForget, mfaLock)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidCode
	}
	if err != nil {
		return err
	}
	if !a.Allowed {
		return &CodeThrottledError{RetryAfter: a.LockedUntil.Sub(now)}
	}
	err = check()
	if err == nil {
		return s.db.ClearMFAAttempts(ctx, userID)
	}
	if errors.Is(err, ErrInvalidCode) {
		if aerr := s.auditFailure(ctx, userID, kind, now, a); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	return err
}

// auditFailure writes the event of a wrong code: which kind, how many in
// a row, and until when the user is locked, if they are.
func (s *Service) auditFailure(ctx context.Context, userID, kind string, now time.Time, a store.MFAAttempt) error {
	type failure struct {
		Kind        string    `json:"kind"`
		Failures    int       `json:"failures"`
		LockedUntil time.Time `json:"locked_until,omitzero"`
	}
	ev, err := audit.Change(audit.Actor{ID: userID}, now, "user.mfa_failure", "user", userID, nil,
		failure{Kind: kind, Failures: a.Failures, LockedUntil: a.LockedUntil})
	if err != nil {
		return err
	}
	return s.db.AppendEvent(ctx, ev)
}

// ResetMFA removes every second factor of the user, for one who lost
// them: TOTP (pending or confirmed), recovery codes and passkeys, and the
// count of wrong codes; and it ends every session of the user, so that
// none signed in with the old factors goes on. It is an audit event of by. It returns store.ErrNotFound
// if there is no such user.
func (s *Service) ResetMFA(ctx context.Context, by audit.Actor, userID string) error {
	_, err := s.db.ResetMFA(ctx, userID, func(before store.MFA) (store.Event, error) {
		return mfaEvent(by, s.clock(), "user.mfa_reset", userID, before, store.MFA{})
	})
	return err
}

// CheckCode checks a code typed at the second step after a password:
// six digits are a code from the authenticator app (CheckTOTP), anything
// else a recovery code (UseRecoveryCode). Each works once, under the
// user's code throttle. It returns ErrInvalidCode (also for a TOTP code
// of a user without TOTP), *CodeThrottledError, or an internal error.
func (s *Service) CheckCode(ctx context.Context, userID, code string) error {
	if _, ok := normalTOTP(code); ok {
		err := s.CheckTOTP(ctx, userID, code)
		if errors.Is(err, ErrNoTOTP) {
			return ErrInvalidCode
		}
		return err
	}
	return s.UseRecoveryCode(ctx, userID, code)
}
