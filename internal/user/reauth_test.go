package user

import (
	"errors"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestPendingTOTP: the pending enrolment shows again with the same
// secret, until it is confirmed or there is none.
func TestPendingTOTP(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	u := e.create(t, api.CreateUserRequest{Username: "penny", Password: goodPassword}).User
	if _, err := e.svc.PendingTOTP(ctx, u.ID); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("PendingTOTP before BeginTOTP = %v, want ErrNoTOTP", err)
	}
	en, err := e.svc.BeginTOTP(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.PendingTOTP(ctx, u.ID)
	if err != nil || again.Secret != en.Secret || again.URL != en.URL || len(again.QRPNG) == 0 {
		t.Fatalf("PendingTOTP = %q %q, %v; want the secret and URL of BeginTOTP (%q %q)", again.Secret, again.URL, err, en.Secret, en.URL)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, u.ID, codeAt(t, again.Secret, e.now)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PendingTOTP(ctx, u.ID); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("PendingTOTP after ConfirmTOTP = %v, want ErrNoTOTP", err)
	}
}

// TestReauthenticate: the current password or a fresh code proves the
// person; a wrong password counts toward the account's throttle, a wrong
// or reused code toward the code throttle.
func TestReauthenticate(t *testing.T) {
	e := mfaEnv(t)
	ctx := t.Context()
	u, secret, _ := e.enrol(t, "rhea")
	if err := e.svc.Reauthenticate(ctx, u.ID, goodPassword); err != nil {
		t.Errorf("Reauthenticate(password) = %v", err)
	}
	code := codeAt(t, secret, e.now)
	if err := e.svc.Reauthenticate(ctx, u.ID, code); err != nil {
		t.Errorf("Reauthenticate(code) = %v", err)
	}
	if err := e.svc.Reauthenticate(ctx, u.ID, code); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("Reauthenticate(the same code) = %v, want ErrInvalidCode", err)
	}
	plain := e.create(t, api.CreateUserRequest{Username: "sol", Password: goodPassword}).User
	if err := e.svc.Reauthenticate(ctx, plain.ID, "123456"); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("Reauthenticate(code) without TOTP = %v, want ErrInvalidCode", err)
	}
	var err error
	for range 10 {
		err = e.svc.Reauthenticate(ctx, plain.ID, "not-my-password-77")
		e.now = e.now.Add(time.Millisecond)
	}
	if _, ok := errors.AsType[*ThrottledError](err); !ok {
		t.Errorf("the 10th wrong password = %v, want *ThrottledError", err)
	}
}

// TestPasswordlessStartsLimited: one address may start only so many
// passwordless passkey sign-ins; more wait, another address does not,
// and the wait ends.
func TestPasswordlessStartsLimited(t *testing.T) {
	e := newPasskeyEnv(t)
	ctx := t.Context()
	flood := ClientMeta{IP: "198.51.100.9"}
	for i := range passkeyStarts.Free {
		if _, _, err := e.svc.BeginPasswordlessLogin(ctx, flood); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	_, _, err := e.svc.BeginPasswordlessLogin(ctx, flood)
	te, ok := errors.AsType[*ThrottledError](err)
	if !ok || te.RetryAfter <= 0 {
		t.Fatalf("start %d = %v, want *ThrottledError", passkeyStarts.Free+1, err)
	}
	// Another address is not held back.
	if _, _, err := e.svc.BeginPasswordlessLogin(ctx, ClientMeta{IP: "2001:db8::1"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	e.now = e.now.Add(te.RetryAfter)
	if _, _, err := e.svc.BeginPasswordlessLogin(ctx, flood); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	if _, _, err := e.svc.BeginPasswordlessLogin(ctx, flood); err == nil {
		t.Error("right after the wait a second start was admitted; want the longer wait")
	}
	e.now = e.now.Add(PasskeyCeremonyTTL)
	if _, _, err := e.svc.BeginPasswordlessLogin(ctx, flood); err != nil {
		t.Errorf("a ceremony's lifetime later: %v", err)
	}
}
