package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

// TestUsersResetMFA: a user enrolled in TOTP (through the user service
// on the server's own database and KEK, as the account pages do) loses
// every factor with tokend users reset-mfa, by username or by id.
func TestUsersResetMFA(t *testing.T) {
	dir := t.TempDir()
	url, admin, _, stop := startServe(t, dir)
	defer stop()
	var alice, bob api.CreatedUser
	mustJSON(t, cli(t, url, admin, 0, "users", "create", "--json", "--username", "Alice"), &alice)
	mustJSON(t, cli(t, url, admin, 0, "users", "create", "--json", "--username", "bob"), &bob)
	enrolOnDisk(t, dir, alice.ID, bob.ID)
	if m := userMFA(t, url, admin, alice.ID); m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Fatalf("before the reset, alice has %+v", m)
	}
	if out := cli(t, url, admin, 0, "users", "reset-mfa", "alice"); !strings.Contains(out, alice.ID) {
		t.Errorf("users reset-mfa alice printed %q, want the id", out)
	}
	if m := userMFA(t, url, admin, alice.ID); m != (api.MFA{}) {
		t.Errorf("after the reset, alice has %+v", m)
	}
	if m := userMFA(t, url, admin, bob.ID); m != (api.MFA{TOTP: true, RecoveryCodesLeft: 10}) {
		t.Errorf("bob's factors changed: %+v", m)
	}
	var m api.MFA
	mustJSON(t, cli(t, url, admin, 0, "users", "reset-mfa", bob.ID, "--json"), &m)
	if m != (api.MFA{}) || userMFA(t, url, admin, bob.ID) != (api.MFA{}) {
		t.Errorf("users reset-mfa %s --json = %+v", bob.ID, m)
	}
	cli(t, url, admin, 3, "users", "reset-mfa", "carol")
	cli(t, url, admin, 3, "users", "reset-mfa", "usr_nope")
	cli(t, url, "tok_forged", 4, "users", "reset-mfa", "alice")
	cli(t, url, admin, 2, "users", "reset-mfa")
	cli(t, url, admin, 2, "users", "reset-mfa", "alice", "bob")
}

// enrolOnDisk turns TOTP on for the users, opening the server's SQLite
// database beside it with the generated KEK of its data directory.
func enrolOnDisk(t *testing.T, dir string, ids ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := seal.ParseKEK(string(b))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), filepath.Join(dir, "tokend.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := user.New(user.Config{DB: db, KEK: kek})
	for _, id := range ids {
		en, err := svc.BeginTOTP(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(en.Secret, time.Now())
		if _, err := svc.ConfirmTOTP(t.Context(), id, code); err != nil {
			t.Fatal(err)
		}
	}
}

func userMFA(t *testing.T, url, admin, id string) api.MFA {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/v1/users/"+id+"/mfa", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m api.MFA
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET mfa: %d, %v", resp.StatusCode, err)
	}
	return m
}
