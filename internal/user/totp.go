package user

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/store"
)

// TOTP parameters: what every authenticator app understands (RFC 6238
// defaults: HMAC-SHA-1, six digits, 30-second steps) and a 160-bit
// secret (RFC 4226 §4).
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSecretSize = 20
	// totpSkew is how many steps before and after now a code may be
	// from: one each way, for clocks that drift and slow typists.
	totpSkew = 1
	// qrSize is the width and height of the enrolment QR code, in
	// pixels.
	qrSize = 256
)

var (
	// ErrInvalidCode refuses a TOTP or recovery code that is malformed,
	// wrong, expired, already used or another user's, alike.
	ErrInvalidCode = errors.New("the code is not valid")
	// ErrNoTOTP means the user has no confirmed TOTP (or, for
	// ConfirmTOTP, no enrolment waiting for its first code).
	ErrNoTOTP = errors.New("no authenticator app is set up")
	// ErrTOTPEnabled refuses a new enrolment while one is confirmed:
	// disable it first.
	ErrTOTPEnabled = errors.New("an authenticator app is already set up; disable it first")
	// ErrNoKEK means the service has no key-encryption key to seal
	// TOTP secrets with.
	ErrNoKEK = errors.New("no key-encryption key is configured for TOTP secrets")
)

// TOTPEnrolment is a TOTP secret waiting to be confirmed: the secret in
// base32 for manual entry, the otpauth:// URL, and the URL as a QR code
// (PNG). It is shown to the user once; it redacts itself in logs.
type TOTPEnrolment struct {
	Secret string
	URL    string
	QRPNG  []byte
}

// String redacts e.
func (e TOTPEnrolment) String() string { return "TOTPEnrolment{REDACTED}" }

// LogValue redacts e.
func (e TOTPEnrolment) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// BeginTOTP starts a TOTP enrolment for the user: a new secret, stored
// sealed under the key-encryption key and pending until ConfirmTOTP
// checks a first code from it. A new BeginTOTP replaces a pending
// enrolment. It returns ErrTOTPEnabled if the user has a confirmed TOTP,
// store.ErrNotFound if there is no such user, and ErrNoKEK.
func (s *Service) BeginTOTP(ctx context.Context, userID string) (TOTPEnrolment, error) {
	if len(s.kek) == 0 {
		return TOTPEnrolment{}, ErrNoKEK
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: u.Username, Period: totpPeriod,
		SecretSize: totpSecretSize, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("generate totp secret: %w", err)
	}
	sealed, err := seal.Seal(s.kek, totpAD(userID), []byte(key.Secret()))
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.db.PutPendingTOTP(ctx, store.TOTP{UserID: userID, Sealed: sealed, CreatedAt: s.clock()}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return TOTPEnrolment{}, ErrTOTPEnabled
		}
		return TOTPEnrolment{}, err
	}
	return enrolment(key)
}

// enrolment is what a person is shown of key: its secret, URL and QR
// code.
func enrolment(key *otp.Key) (TOTPEnrolment, error) {
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp qr code: %w", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// PendingTOTP shows again the enrolment BeginTOTP started and nobody
// confirmed yet, for a person who typed a wrong first code or reloaded
// the page: the same secret, URL and QR code. It returns ErrNoTOTP if no
// enrolment is pending (none, or TOTP already on).
func (s *Service) PendingTOTP(ctx context.Context, userID string) (TOTPEnrolment, error) {
	t, err := s.db.TOTPOf(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !t.ConfirmedAt.IsZero() {
		return TOTPEnrolment{}, ErrNoTOTP
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	sealed, err := seal.Open(s.kek, totpAD(userID), t.Sealed)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp secret of %s: %w", userID, err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(sealed))
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp secret of %s: %w", userID, err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: u.Username, Period: totpPeriod,
		Secret: raw, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp key of %s: %w", userID, err)
	}
	return enrolment(key)
}

// totpAD binds a sealed TOTP secret to its user's row.
func totpAD(userID string) string { return "totp:" + userID }

// ConfirmTOTP checks a first code from the pending enrolment and, if it
// is right, turns TOTP on and returns ten new recovery codes, which
// replace any earlier ones. They are shown once: the store keeps only
// their hashes. It returns ErrInvalidCode (the enrolment stays pending)
// and ErrNoTOTP if no enrolment is pending.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	code, ok := normalTOTP(code)
	if !ok {
		return nil, ErrInvalidCode
	}
	t, err := s.db.TOTPOf(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !t.ConfirmedAt.IsZero() {
		return nil, ErrNoTOTP
	}
	if err != nil {
		return nil, err
	}
	step, err := s.matchTOTP(userID, t, code)
	if err != nil {
		return nil, err
	}
	codes, hashes := s.newRecoveryCodes(userID)
	ev, err := mfaEvent(audit.Actor{ID: userID}, s.clock(), "user.totp_enable", userID, store.MFA{},
		store.MFA{TOTP: true, RecoveryCodes: len(codes)})
	if err != nil {
		return nil, err
	}
	err = s.db.ConfirmTOTP(ctx, userID, t.CreatedAt, step, s.clock(), hashes, ev)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoTOTP
	}
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckTOTP checks a code from the user's authenticator app: right for
// the current 30-second step or one step either side, and of a later step
// than any code accepted before, so each code works once (of two uses at
// once, one wins). Every code tried counts against the user's throttle
// until one is right. It returns ErrInvalidCode, *CodeThrottledError,
// and ErrNoTOTP if the user has no confirmed TOTP.
func (s *Service) CheckTOTP(ctx context.Context, userID, code string) error {
	code, ok := normalTOTP(code)
	if !ok {
		return ErrInvalidCode
	}
	t, err := s.db.TOTPOf(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.ConfirmedAt.IsZero() {
		return ErrNoTOTP
	}
	if err != nil {
		return err
	}
	return s.attempt(ctx, userID, "totp", func() error {
		step, err := s.matchTOTP(userID, t, code)
		if err != nil {
			return err
		}
		if err := s.db.UseTOTPStep(ctx, userID, step); errors.Is(err, store.ErrConflict) {
			return ErrInvalidCode
		} else if err != nil {
			return err
		}
		return nil
	})
}

// matchTOTP returns the time step, within the skew around now, for which
// code is right under t's secret, and ErrInvalidCode if none is, or the
// step is not later than the last one used.
func (s *Service) matchTOTP(userID string, t store.TOTP, code string) (int64, error) {
	secret, err := seal.Open(s.kek, totpAD(userID), t.Sealed)
	if err != nil {
		return 0, fmt.Errorf("totp secret of %s: %w", userID, err)
	}
	now := s.now().Unix() / totpPeriod
	found := int64(-1)
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := hotp.GenerateCodeCustom(string(secret), uint64(step), hotp.ValidateOpts{Digits: totpDigits,
			Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, fmt.Errorf("totp code of %s: %w", userID, err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > t.LastStep {
			found = step
		}
	}
	if found < 0 {
		return 0, ErrInvalidCode
	}
	return found, nil
}

// normalTOTP strips the spaces people type into codes and reports
// whether what is left is six ASCII digits.
func normalTOTP(code string) (string, bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != totpDigits.Length() {
		return "", false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return code, true
}

// DisableTOTP turns the user's TOTP off (or drops a pending enrolment),
// with their recovery codes. It returns ErrNoTOTP if there is neither.
func (s *Service) DisableTOTP(ctx context.Context, userID string) error {
	before, err := s.db.MFAOf(ctx, userID)
	if err != nil {
		return err
	}
	ev, err := mfaEvent(audit.Actor{ID: userID}, s.clock(), "user.totp_disable", userID, before, store.MFA{})
	if err != nil {
		return err
	}
	if err := s.db.DeleteTOTP(ctx, userID, ev); errors.Is(err, store.ErrNotFound) {
		return ErrNoTOTP
	} else if err != nil {
		return err
	}
	return nil
}

// MFA reports the user's second factors: whether TOTP is on, how many
// recovery codes are left and how many passkeys they have. It returns store.ErrNotFound if there is no
// such user.
func (s *Service) MFA(ctx context.Context, userID string) (api.MFA, error) {
	if _, err := s.db.UserByID(ctx, userID); err != nil {
		return api.MFA{}, err
	}
	m, err := s.db.MFAOf(ctx, userID)
	if err != nil {
		return api.MFA{}, err
	}
	return api.MFA{TOTP: m.TOTP, RecoveryCodesLeft: m.RecoveryCodes, Passkeys: m.Passkeys}, nil
}

// mfaEvent is the audit event of a change to a user's second factors: it
// records what the user has, never a secret or code.
func mfaEvent(by audit.Actor, now time.Time, action, userID string, before, after store.MFA) (store.Event, error) {
	type view struct {
		TOTP          bool `json:"totp"`
		RecoveryCodes int  `json:"recovery_codes"`
		Passkeys      int  `json:"passkeys"`
	}
	return audit.Change(by, now, action, "user", userID, view(before), view(after))
}
