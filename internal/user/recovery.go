package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// recoveryCount is how many recovery codes a user gets at a time.
const recoveryCount = 10

// recoveryLen is the length of a recovery code without its dashes:
// sixteen base32 characters, 80 random bits, so that a fast hash is
// enough to store it (STYLE.md §10).
const recoveryLen = 16

// newRecoveryCodes returns recoveryCount new codes for the user, written
// XXXX-XXXX-XXXX-XXXX, and their hashes for the store.
func (s *Service) newRecoveryCodes(userID string) ([]string, []store.RecoveryCode) {
	now := s.clock()
	codes := make([]string, recoveryCount)
	hashes := make([]store.RecoveryCode, recoveryCount)
	for i := range codes {
		raw := rand.Text()[:recoveryLen]
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
		hashes[i] = store.RecoveryCode{Hash: recoveryHash(userID, raw), CreatedAt: now}
	}
	return codes, hashes
}

// recoveryHash is the SHA-256 of a normalised code, with the user id, so
// that equal codes of two users hash apart and a hash names its user.
func recoveryHash(userID, code string) [32]byte {
	return sha256.Sum256([]byte("tokend recovery code\x00" + userID + "\x00" + code))
}

// normalRecovery uppercases code and drops its dashes and spaces, and
// reports whether what is left can be a recovery code: recoveryLen
// characters of the base32 alphabet.
func normalRecovery(code string) (string, bool) {
	code = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(code) != recoveryLen {
		return "", false
	}
	for _, c := range []byte(code) {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return code, true
}

// UseRecoveryCode spends one of the user's recovery codes in place of a
// TOTP code: each works once (of two uses at once, one wins). Every code
// tried counts against the user's throttle until one is right. It returns
// ErrInvalidCode (malformed, unknown, used or another user's) and
// *CodeThrottledError.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	code, ok := normalRecovery(code)
	if !ok {
		return ErrInvalidCode
	}
	return s.attempt(ctx, userID, "recovery_code", func() error {
		before, err := s.db.MFAOf(ctx, userID)
		if err != nil {
			return err
		}
		after := before
		after.RecoveryCodes--
		ev, err := mfaEvent(audit.Actor{ID: userID}, s.clock(), "user.recovery_code_use", userID, before, after)
		if err != nil {
			return err
		}
		err = s.db.UseRecoveryCode(ctx, userID, recoveryHash(userID, code), ev)
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidCode
		}
		return err
	})
}

// NewRecoveryCodes replaces the user's recovery codes with ten new ones,
// shown once. It returns ErrNoTOTP if the user has no confirmed TOTP.
func (s *Service) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	before, err := s.db.MFAOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes(userID)
	after := before
	after.RecoveryCodes = len(codes)
	ev, err := mfaEvent(audit.Actor{ID: userID}, s.clock(), "user.recovery_codes_renew", userID, before, after)
	if err != nil {
		return nil, err
	}
	if err := s.db.ReplaceRecoveryCodes(ctx, userID, hashes, ev); errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoTOTP
	} else if err != nil {
		return nil, err
	}
	return codes, nil
}
