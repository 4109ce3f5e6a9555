package user

import (
	"bytes"
	"encoding/base32"
	"errors"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

var testKEK = bytes.Repeat([]byte{0x42}, 32)

// mfaEnv is an env whose Service can seal TOTP secrets.
func mfaEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams, KEK: testKEK})
	return e
}

// codeAt is the TOTP code of secret at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol gives a new user TOTP and returns the user, the secret and the
// recovery codes.
func (e *env) enrol(t *testing.T, username string) (api.User, string, []string) {
	t.Helper()
	u := e.create(t, api.CreateUserRequest{Username: username, Password: goodPassword}).User
	en, err := e.svc.BeginTOTP(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	codes, err := e.svc.ConfirmTOTP(t.Context(), u.ID, codeAt(t, en.Secret, e.now))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	e.now = e.now.Add(30 * time.Second) // the confirming code is used
	return u, en.Secret, codes
}

func (e *env) mfa(t *testing.T, id string) api.MFA {
	t.Helper()
	m, err := e.svc.MFA(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTOTPEnrolment(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	u := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword}).User
	en, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret); err != nil || len(raw) != 20 {
		t.Errorf("secret %q decodes to %d bytes, %v; want 20", en.Secret, len(raw), err)
	}
	link, err := url.Parse(en.URL)
	if err != nil || link.Scheme != "otpauth" || link.Host != "totp" || link.Query().Get("secret") != en.Secret ||
		link.Query().Get("issuer") != "tokend" || !strings.Contains(link.Path, "alice") {
		t.Errorf("URL = %q, %v", en.URL, err)
	}
	if img, err := png.Decode(bytes.NewReader(en.QRPNG)); err != nil || img.Bounds().Dx() != qrSize {
		t.Errorf("QR code: %v", err)
	}
	if s := en.String(); strings.Contains(s, en.Secret) {
		t.Errorf("String() = %q shows the secret", s)
	}
	if m := e.mfa(t, u.ID); m != (api.MFA{}) {
		t.Errorf("MFA while pending = %+v, want none", m)
	}
	if err := e.svc.CheckTOTP(ctx, u.ID, codeAt(t, en.Secret, e.now)); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("CheckTOTP while pending = %v, want ErrNoTOTP", err)
	}
	for _, bad := range []string{"", "12345", "abcdef", wrongCode(codeAt(t, en.Secret, e.now))} {
		if _, err := e.svc.ConfirmTOTP(ctx, u.ID, bad); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("ConfirmTOTP(%q) = %v, want ErrInvalidCode", bad, err)
		}
	}
	// A second BeginTOTP replaces the first: the old secret no longer
	// confirms.
	en2, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil || en2.Secret == en.Secret {
		t.Fatalf("second BeginTOTP = %v (same secret: %v)", err, en2.Secret == en.Secret)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, codeAt(t, en.Secret, e.now)); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("ConfirmTOTP with the replaced secret = %v, want ErrInvalidCode", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, u.ID, " "+codeAt(t, en2.Secret, e.now)[:3]+" "+codeAt(t, en2.Secret, e.now)[3:])
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] {
			t.Errorf("recovery code %q: want XXXX-XXXX-XXXX-XXXX, each once", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Errorf("ConfirmTOTP gave %d recovery codes, want 10", len(codes))
	}
	if m := e.mfa(t, u.ID); m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("MFA = %+v, want TOTP and 10 codes", m)
	}
	if _, err := e.svc.BeginTOTP(ctx, u.ID); !errors.Is(err, ErrTOTPEnabled) {
		t.Errorf("BeginTOTP while on = %v, want ErrTOTPEnabled", err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, codeAt(t, en2.Secret, e.now)); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("ConfirmTOTP again = %v, want ErrNoTOTP", err)
	}
	if _, err := e.svc.BeginTOTP(ctx, "usr_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("BeginTOTP(no user) = %v, want store.ErrNotFound", err)
	}
	noKEK := New(Config{DB: e.db, Params: testParams})
	if _, err := noKEK.BeginTOTP(ctx, u.ID); !errors.Is(err, ErrNoKEK) {
		t.Errorf("BeginTOTP without a KEK = %v, want ErrNoKEK", err)
	}
}

// wrongCode is a well-formed code other than c.
func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// state is everything a refused code must leave alone.
func (e *env) state(t *testing.T, id string) (store.TOTP, api.MFA) {
	t.Helper()
	tt, err := e.db.TOTPOf(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tt, e.mfa(t, id)
}

func TestCheckTOTPRefusals(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	alice, secret, _ := e.enrol(t, "alice")
	_, bobSecret, _ := e.enrol(t, "bob")
	// Alice signs in with the current code; it is now used.
	used := codeAt(t, secret, e.now)
	if err := e.svc.CheckTOTP(ctx, alice.ID, used); err != nil {
		t.Fatalf("CheckTOTP(right code) = %v", err)
	}
	tests := []struct{ name, code string }{
		{"empty", ""},
		{"short", "12345"},
		{"long", "1234567"},
		{"letters", "12a456"},
		{"unicode digits", "١٢٣٤٥٦"},
		{"injection", "1' OR 1=1"},
		{"wrong", wrongCode(codeAt(t, secret, e.now))},
		{"reused", used},
		{"expired (two steps ago)", codeAt(t, secret, e.now.Add(-60*time.Second))},
		{"earlier step than the last used", codeAt(t, secret, e.now.Add(-30*time.Second))},
		{"too far ahead", codeAt(t, secret, e.now.Add(90*time.Second))},
		{"another user's", codeAt(t, bobSecret, e.now.Add(30*time.Second))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == codeAt(t, secret, e.now.Add(30*time.Second)) || tt.code == codeAt(t, secret, e.now.Add(60*time.Second)) {
				t.Skip("the code collides with one that is right (1 in 10^6)")
			}
			e.db.ClearMFAAttempts(ctx, alice.ID)
			before, beforeMFA := e.state(t, alice.ID)
			if err := e.svc.CheckTOTP(ctx, alice.ID, tt.code); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("CheckTOTP(%q) = %v, want ErrInvalidCode", tt.code, err)
			}
			after, afterMFA := e.state(t, alice.ID)
			if after.LastStep != before.LastStep || !bytes.Equal(after.Sealed, before.Sealed) || afterMFA != beforeMFA {
				t.Errorf("a refused code changed the user's factors: %+v %+v -> %+v %+v", before, beforeMFA, after, afterMFA)
			}
		})
	}
	e.db.ClearMFAAttempts(ctx, alice.ID)
	// One step ahead is within the skew.
	if err := e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now.Add(30*time.Second))); err != nil {
		t.Errorf("CheckTOTP(next step) = %v", err)
	}
	if err := e.svc.CheckTOTP(ctx, "usr_nope", "123456"); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("CheckTOTP(no user) = %v, want ErrNoTOTP", err)
	}
}

func TestCheckTOTPSkew(t *testing.T) {
	e := mfaEnv(t)
	alice, secret, _ := e.enrol(t, "alice")
	// Codes of the step before, the step, and the step after are taken,
	// each once, in order.
	e.now = e.now.Add(5 * time.Minute)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		if err := e.svc.CheckTOTP(t.Context(), alice.ID, codeAt(t, secret, e.now.Add(d))); err != nil {
			t.Errorf("CheckTOTP(code of now%+v) = %v", d, err)
		}
	}
}

func TestCheckTOTPConcurrent(t *testing.T) {
	e := mfaEnv(t)
	alice, secret, _ := e.enrol(t, "alice")
	code := codeAt(t, secret, e.now)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = e.svc.CheckTOTP(t.Context(), alice.ID, code) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if _, throttled := errors.AsType[*CodeThrottledError](err); !errors.Is(err, ErrInvalidCode) && !throttled {
			t.Errorf("a losing use: %v, want ErrInvalidCode or CodeThrottledError", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent uses of one code won, want 1", wins, n)
	}
}

func TestRecoveryCodes(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	alice, _, codes := e.enrol(t, "alice")
	bob, _, bobCodes := e.enrol(t, "bob")
	// Typed in lower case without dashes, a code still works; once.
	typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", ""))
	if err := e.svc.UseRecoveryCode(ctx, alice.ID, typed); err != nil {
		t.Fatalf("UseRecoveryCode: %v", err)
	}
	if m := e.mfa(t, alice.ID); m.RecoveryCodesLeft != 9 {
		t.Errorf("after one use, %d codes are left, want 9", m.RecoveryCodesLeft)
	}
	for name, code := range map[string]string{
		"reused": codes[0], "another user's": bobCodes[0], "empty": "", "short": codes[1][:10],
		"bad alphabet": "0000-1111-8888-9999", "too long": codes[1] + "A", "injection": "'; DROP TABLE users; --",
	} {
		e.db.ClearMFAAttempts(ctx, alice.ID)
		before := e.mfa(t, alice.ID)
		if err := e.svc.UseRecoveryCode(ctx, alice.ID, code); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("UseRecoveryCode(%s) = %v, want ErrInvalidCode", name, err)
		}
		if after := e.mfa(t, alice.ID); after != before {
			t.Errorf("UseRecoveryCode(%s) changed %+v to %+v", name, before, after)
		}
	}
	if m := e.mfa(t, bob.ID); m.RecoveryCodesLeft != 10 {
		t.Errorf("bob has %d codes left, want 10", m.RecoveryCodesLeft)
	}
	fresh, err := e.svc.NewRecoveryCodes(ctx, alice.ID)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("NewRecoveryCodes = %d codes, %v", len(fresh), err)
	}
	e.db.ClearMFAAttempts(ctx, alice.ID)
	if err := e.svc.UseRecoveryCode(ctx, alice.ID, codes[1]); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("an old code after NewRecoveryCodes = %v, want ErrInvalidCode", err)
	}
	if err := e.svc.UseRecoveryCode(ctx, alice.ID, fresh[9]); err != nil {
		t.Errorf("a new code: %v", err)
	}
	carol := e.create(t, api.CreateUserRequest{Username: "carol", Password: goodPassword}).User
	if _, err := e.svc.NewRecoveryCodes(ctx, carol.ID); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("NewRecoveryCodes without TOTP = %v, want ErrNoTOTP", err)
	}
}

func TestMFAThrottle(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	alice, secret, codes := e.enrol(t, "alice")
	for i := 1; i <= mfaFreeAttempts; i++ {
		if err := e.svc.CheckTOTP(ctx, alice.ID, wrongCode(codeAt(t, secret, e.now))); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code %d = %v, want ErrInvalidCode", i, err)
		}
	}
	// Locked: even the right code, or a recovery code, is refused, and
	// spends nothing.
	for name, try := range map[string]func() error{
		"totp":     func() error { return e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now)) },
		"recovery": func() error { return e.svc.UseRecoveryCode(ctx, alice.ID, codes[0]) },
	} {
		err := try()
		if te, ok := errors.AsType[*CodeThrottledError](err); !ok || te.RetryAfter != mfaLockBase {
			t.Errorf("%s while locked = %v, want CodeThrottledError after %v", name, err, mfaLockBase)
		}
	}
	if m := e.mfa(t, alice.ID); m.RecoveryCodesLeft != 10 {
		t.Errorf("a throttled recovery code was spent: %d left", m.RecoveryCodesLeft)
	}
	// The next wrong code after the lock locks for twice as long.
	e.now = e.now.Add(mfaLockBase)
	if err := e.svc.CheckTOTP(ctx, alice.ID, "000000"); err == nil {
		t.Fatal("000000 was right")
	}
	err := e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now))
	if te, ok := errors.AsType[*CodeThrottledError](err); !ok || te.RetryAfter != 2*mfaLockBase {
		t.Errorf("after the 6th wrong code = %v, want CodeThrottledError after %v", err, 2*mfaLockBase)
	}
	e.now = e.now.Add(2 * mfaLockBase)
	if err := e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now)); err != nil {
		t.Errorf("right code after the lock = %v", err)
	}
	// A right code forgets the count.
	if err := e.svc.CheckTOTP(ctx, alice.ID, "000000"); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("wrong code after a right one = %v, want ErrInvalidCode (no lock)", err)
	}
	evs, err := e.db.ListEvents(ctx, store.EventFilter{Action: "user.mfa_failure", Limit: 100})
	if err != nil || len(evs) != mfaFreeAttempts+2 {
		t.Errorf("%d user.mfa_failure events, %v; want %d", len(evs), err, mfaFreeAttempts+2)
	}
	for _, n := range []int{1, mfaFreeAttempts - 1} {
		if d := mfaLock(n); d != 0 {
			t.Errorf("mfaLock(%d) = %v, want 0", n, d)
		}
	}
	if d := mfaLock(1000); d != mfaLockMax {
		t.Errorf("mfaLock(1000) = %v, want the cap %v", d, mfaLockMax)
	}
}

func TestDisableAndResetMFA(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	alice, secret, codes := e.enrol(t, "alice")
	if err := e.svc.DisableTOTP(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if m := e.mfa(t, alice.ID); m != (api.MFA{}) {
		t.Errorf("after DisableTOTP: %+v", m)
	}
	if err := e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now)); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("CheckTOTP after disable = %v, want ErrNoTOTP", err)
	}
	if err := e.svc.UseRecoveryCode(ctx, alice.ID, codes[0]); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("recovery code after disable = %v, want ErrInvalidCode", err)
	}
	if err := e.svc.DisableTOTP(ctx, alice.ID); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("DisableTOTP again = %v, want ErrNoTOTP", err)
	}
	bob, _, _ := e.enrol(t, "bob")
	if err := e.svc.ResetMFA(ctx, admin, bob.ID); err != nil {
		t.Fatal(err)
	}
	if m := e.mfa(t, bob.ID); m != (api.MFA{}) {
		t.Errorf("after ResetMFA: %+v", m)
	}
	if _, err := e.svc.BeginTOTP(ctx, bob.ID); err != nil {
		t.Errorf("BeginTOTP after a reset: %v", err)
	}
	if err := e.svc.ResetMFA(ctx, admin, "usr_nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ResetMFA(no user) = %v, want store.ErrNotFound", err)
	}
	evs, err := e.db.ListEvents(ctx, store.EventFilter{Action: "user.mfa_reset", Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].Actor != admin.ID || evs[0].TargetID != bob.ID ||
		string(evs[0].Before) != `{"recovery_codes":10,"totp":true}` {
		t.Errorf("mfa_reset events = %+v, %v", evs, err)
	}
}

// TestMFAAtRest: the database files (WAL included) hold no TOTP secret
// and no recovery code in clear, in any form they are shown in.
func TestMFAAtRest(t *testing.T) {
	e := mfaEnv(t)
	_, secret, codes := e.enrol(t, "alice")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	forms := [][]byte{[]byte(secret), []byte(strings.ToLower(secret)), raw}
	for _, c := range codes {
		forms = append(forms, []byte(c), []byte(strings.ReplaceAll(c, "-", "")))
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "tokend.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, form := range forms {
			if bytes.Contains(b, form) {
				t.Errorf("%s holds secret form %d in clear", filepath.Base(f), i)
			}
		}
	}
	tt, err := e.db.TOTPOf(t.Context(), e.mfaUser(t, "alice"))
	if err != nil || len(tt.Sealed) == 0 || bytes.Contains(tt.Sealed, []byte(secret)) {
		t.Errorf("stored TOTP = %x, %v", tt.Sealed, err)
	}
}

func (e *env) mfaUser(t *testing.T, username string) string {
	t.Helper()
	u, err := e.db.UserByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestTOTPSignIn: with TOTP on, a right password opens a session that
// waits for the second factor; a right code completes it; ResetMFA ends
// every session of the user, and the next sign-in asks for nothing more.
func TestTOTPSignIn(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	alice, secret, _ := e.enrol(t, "alice")
	meta := ClientMeta{IP: "192.0.2.5", UserAgent: "test"}
	in, err := e.svc.SignIn(ctx, "alice", goodPassword, meta)
	if err != nil || in.Session.Pending != PendingSecondFactor {
		t.Fatalf("SignIn with TOTP on = %+v, %v; want a session pending the second factor", in.Session, err)
	}
	if err := e.svc.CheckTOTP(ctx, alice.ID, codeAt(t, secret, e.now)); err != nil {
		t.Fatal(err)
	}
	full, err := e.svc.CompleteSecondFactor(ctx, in.Token, "otp", meta)
	if err != nil || full.Session.Pending != "" || !slices.Contains(full.Session.AMR, "otp") || !slices.Contains(full.Session.AMR, "mfa") {
		t.Fatalf("CompleteSecondFactor = %+v, %v", full.Session, err)
	}
	if err := e.svc.ResetMFA(ctx, admin, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CheckSession(ctx, full.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("CheckSession after ResetMFA = %v, want ErrNoSession", err)
	}
	in, err = e.svc.SignIn(ctx, "alice", goodPassword, meta)
	if err != nil || in.Session.Pending != "" {
		t.Errorf("SignIn after ResetMFA = %+v, %v; want a full session", in.Session, err)
	}
}
