package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// enrolTOTP gives the user TOTP through the user service, as the account
// pages do, and returns the secret and the recovery codes.
func (f *fixture) enrolTOTP(t *testing.T, id string) (string, []string) {
	t.Helper()
	en, err := f.Users.BeginTOTP(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(en.Secret, f.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.Users.ConfirmTOTP(t.Context(), id, code)
	if err != nil {
		t.Fatal(err)
	}
	return en.Secret, codes
}

func TestResetMFA(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "bob", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := f.Client.UserMFA(ctx, alice.ID); err != nil || *m != (api.MFA{}) {
		t.Errorf("UserMFA before enrolment = %+v, %v", m, err)
	}
	_, codes := f.enrolTOTP(t, alice.ID)
	f.enrolTOTP(t, bob.ID)
	if err := f.Users.UseRecoveryCode(ctx, alice.ID, codes[0]); err != nil {
		t.Fatal(err)
	}
	if m, err := f.Client.UserMFA(ctx, alice.ID); err != nil || *m != (api.MFA{TOTP: true, RecoveryCodesLeft: 9}) {
		t.Errorf("UserMFA = %+v, %v; want TOTP and 9 codes", m, err)
	}
	m, err := f.Client.ResetUserMFA(ctx, alice.ID)
	if err != nil || *m != (api.MFA{}) {
		t.Fatalf("ResetUserMFA = %+v, %v", m, err)
	}
	if m, err := f.Client.UserMFA(ctx, bob.ID); err != nil || *m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("bob's factors after alice's reset = %+v, %v", m, err)
	}
	if err := f.Users.UseRecoveryCode(ctx, alice.ID, codes[1]); err == nil {
		t.Error("a recovery code works after the reset")
	}
	evs, err := f.Client.ListAudit(ctx, client.AuditFilter{Action: "user.mfa_reset", Limit: 10})
	if err != nil || len(evs.Events) != 1 || evs.Events[0].TargetID != alice.ID || !strings.HasPrefix(evs.Events[0].Actor, "key_") {
		t.Errorf("user.mfa_reset events = %+v, %v", evs, err)
	}
}

func TestResetMFABadInput(t *testing.T) {
	f := newFixture(t)
	u, err := f.Client.CreateUser(t.Context(), api.CreateUserRequest{Username: "alice", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	f.enrolTOTP(t, u.ID)
	tests := []struct {
		method, path, body, auth string
		status                   int
		code                     string
	}{
		{"POST", "/v1/users/usr_nope/reset-mfa", "", "", 404, api.ErrNotFound},
		{"GET", "/v1/users/usr_nope/mfa", "", "", 404, api.ErrNotFound},
		{"POST", "/v1/users/" + u.ID + "/reset-mfa", "", "none", 401, api.ErrUnauthorized},
		{"GET", "/v1/users/" + u.ID + "/mfa", "", "none", 401, api.ErrUnauthorized},
		{"POST", "/v1/users/" + u.ID + "/reset-mfa", `{"all":true}`, "", 400, api.ErrBadRequest},
		{"POST", "/v1/users/" + u.ID + "/reset-mfa", "", "Bearer tok_forged_secret", 401, api.ErrUnauthorized},
	}
	for _, tt := range tests {
		ctype := ""
		if tt.body != "" {
			ctype = "application/json"
		}
		resp, p := f.raw(t, tt.method, tt.path, ctype, tt.body, tt.auth)
		if resp.StatusCode != tt.status || p.Code() != tt.code {
			t.Errorf("%s %s %s: %d %s, want %d %s", tt.method, tt.path, tt.body, resp.StatusCode, p.Code(), tt.status, tt.code)
		}
	}
	// Nothing was reset.
	resp, _ := f.raw(t, "GET", "/v1/users/"+u.ID+"/mfa", "", "", "")
	m, err := f.Client.UserMFA(t.Context(), u.ID)
	if resp.StatusCode != http.StatusOK || err != nil || *m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("after the refused requests: %d, %+v, %v", resp.StatusCode, m, err)
	}
}
