package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestUsersCLI drives the users commands against a real tokend serve,
// after making the first admin user offline on its data directory.
func TestUsersCLI(t *testing.T) {
	dir := t.TempDir()
	var first api.CreatedUser
	mustJSON(t, cli(t, "", "", 0, "users", "create", "--data-dir", dir, "--init", "--json", "--admin", "--username", "root-admin"), &first)
	if !first.Admin || first.PasswordLink == nil || !strings.HasPrefix(first.PasswordLink.Token, "tksp_") {
		t.Fatalf("offline users create = %+v, want an admin with a tksp_ link", first)
	}
	url, admin, logs, stop := startServe(t, dir)
	defer stop()
	setPassword(t, url, first.PasswordLink.Token, "violet-harbour-lantern-42", http.StatusNoContent)
	setPassword(t, url, first.PasswordLink.Token, "violet-harbour-lantern-42", http.StatusBadRequest)

	out := cli(t, url, admin, 0, "users", "create", "--username", "alice", "--email", "alice@example.com", "--groups", "ops,dev")
	if !strings.Contains(out, "set-password token (shown once") || !strings.Contains(out, "tksp_") {
		t.Errorf("users create printed:\n%s\nwant the set-password token", out)
	}
	// The link it prints is the page the person opens (the token in the
	// fragment, which no server sees), and that page is there.
	if i := strings.Index(out, url+"/set-password#tksp_"); i < 0 {
		t.Errorf("users create printed:\n%s\nwant the link %s/set-password#tksp_…", out, url)
	} else if page, err := http.Get(strings.Fields(out[i:])[0]); err != nil || page.StatusCode != http.StatusOK {
		t.Errorf("GET the printed link: %v %v, want 200", page, err)
	} else {
		page.Body.Close()
	}
	var l api.UserList
	mustJSON(t, cli(t, url, admin, 0, "users", "list", "--json", "--group", "ops"), &l)
	if len(l.Users) != 1 || l.Users[0].Username != "alice" {
		t.Fatalf("users list --group ops = %+v", l)
	}
	id := l.Users[0].ID
	var u api.User
	mustJSON(t, cli(t, url, admin, 0, "users", "update", id, "--json", "--display-name", "Alice A.", "--groups", "ops"), &u)
	if u.DisplayName != "Alice A." || len(u.Groups) != 1 {
		t.Errorf("users update = %+v", u)
	}
	mustJSON(t, cli(t, url, admin, 0, "users", "disable", id, "--json"), &u)
	if u.Enabled {
		t.Errorf("users disable = %+v, want disabled", u)
	}
	if out := cli(t, url, admin, 0, "users", "show", id); !strings.Contains(out, "Alice A.") {
		t.Errorf("users show printed:\n%s", out)
	}
	var link api.PasswordLink
	mustJSON(t, cli(t, url, admin, 0, "users", "password-link", first.ID, "--json"), &link)
	cli(t, url, admin, 0, "users", "delete", id)
	cli(t, url, admin, 3, "users", "show", id)
	cli(t, url, admin, 2, "users", "update", id)
	cli(t, url, admin, 2, "users", "create")

	db, _ := os.ReadFile(filepath.Join(dir, "tokend.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "tokend.db-wal"))
	for _, secret := range []string{first.PasswordLink.Token, link.Token, "violet-harbour-lantern-42"} {
		if bytes.Contains(db, []byte(secret)) || bytes.Contains(wal, []byte(secret)) || strings.Contains(logs.String(), secret) {
			t.Errorf("%.8s… is in the database or the log in clear", secret)
		}
	}
}

func setPassword(t *testing.T, url, token, password string, want int) {
	t.Helper()
	body, _ := json.Marshal(api.SetPasswordRequest{Token: token, Password: password})
	resp, err := http.Post(url+"/v1/users/set-password", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("POST /v1/users/set-password: %d, want %d", resp.StatusCode, want)
	}
}

// TestUsersCreateOfflineTaken: making a user offline whose username is
// taken (in any case) is a refusal as the server gives it, exit 4 and a
// message naming the username, not the database's constraint error.
func TestUsersCreateOfflineTaken(t *testing.T) {
	dir := t.TempDir()
	cli(t, "", "", 0, "users", "create", "--data-dir", dir, "--init", "--username", "root")
	var out, errb bytes.Buffer
	code := run(t.Context(), []string{"users", "create", "--data-dir", dir, "--username", "ROOT"}, strings.NewReader(""), &out, &errb,
		func(string) string { return "" })
	if code != exitRefused || !strings.Contains(errb.String(), "another user has this username") ||
		strings.Contains(errb.String(), "constraint") || strings.Contains(errb.String(), "usr_") {
		t.Errorf("offline create of a taken username: exit %d, stderr %q; want 4 naming the username", code, errb.String())
	}
}
