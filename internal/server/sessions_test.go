package server_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/user"
)

// TestAdminUserSessions: an admin lists a user's sessions (never their
// tokens) and ends them; disabling a user ends theirs too.
func TestAdminUserSessions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	m := user.ClientMeta{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (test)"}
	s1, err := f.Users.SignIn(ctx, "alice", userPassword, m)
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(time.Second)
	s2, err := f.Users.SignIn(ctx, "alice", userPassword, m)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.Client.UserSessions(ctx, alice.ID)
	if err != nil || len(list.Sessions) != 2 || list.Sessions[0].ID != s2.Session.ID ||
		list.Sessions[1].IP != m.IP || list.Sessions[1].UserAgent != m.UserAgent {
		t.Fatalf("UserSessions = %+v, %v", list, err)
	}
	resp, _, body := f.rawBody(t, "GET", "/v1/users/"+alice.ID+"/sessions", "", "", "")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, s1.Token) || strings.Contains(body, "tkss_") {
		t.Errorf("GET sessions = %d %s, want 200 without tokens", resp.StatusCode, body)
	}
	if err := f.Client.EndUserSessions(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	for _, si := range []user.SignedIn{s1, s2} {
		if _, _, err := f.Users.CheckSession(ctx, si.Token); !errors.Is(err, user.ErrNoSession) {
			t.Errorf("CheckSession after DELETE sessions = %v, want ErrNoSession", err)
		}
	}
	if list, err := f.Client.UserSessions(ctx, alice.ID); err != nil || len(list.Sessions) != 0 {
		t.Errorf("UserSessions after ending = %+v, %v", list, err)
	}
	s3, err := f.Users.SignIn(ctx, "alice", userPassword, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.DisableUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Users.CheckSession(ctx, s3.Token); !errors.Is(err, user.ErrNoSession) {
		t.Errorf("CheckSession after disable = %v, want ErrNoSession", err)
	}
	for _, id := range []string{"usr_nope", "x%20y"} {
		if _, err := f.Client.UserSessions(ctx, id); problemCode(err) != api.ErrNotFound {
			t.Errorf("UserSessions(%q) = %v, want not-found", id, err)
		}
	}
	if err := f.Client.EndUserSessions(ctx, "usr_nope"); problemCode(err) != api.ErrNotFound {
		t.Errorf("EndUserSessions(unknown) = %v, want not-found", err)
	}
	if resp, p := f.raw(t, "DELETE", "/v1/users/"+alice.ID+"/sessions", "", "", "none"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("DELETE sessions without a key = %d %+v, want 401", resp.StatusCode, p)
	}
}
