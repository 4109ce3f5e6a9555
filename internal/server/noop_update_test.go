package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// noopCase is one request that repeats what a record already holds.
type noopCase struct {
	method, path, body, auth string
}

// TestNoOpUpdateWritesNothing: an update of a user, an OAuth client, a
// key or an API whose fields are what is stored ({}, the same values,
// the same groups in another order, an empty list for none) answers 200
// with the record as it was: no audit event, the same updated_at. So do
// PUT /v1/users/{id}/groups, POST /v1/users/{id}/disable and the RFC 7592
// PUT when they amount to it. A real change still writes exactly one
// event (no refresh_token.revoke for a client that has no refresh grant).
func TestNoOpUpdateWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Email: "alice@example.com",
		DisplayName: "Alice", Groups: []string{"ops", "dev"}, Password: "a long passphrase of her own"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "bob", Password: "a long passphrase of his own"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.DisableUser(ctx, bob.User.ID); err != nil {
		t.Fatal(err)
	}
	cl := f.oauthClient(t, nil)
	k := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	reg := f.registered(t)

	u, c := "/v1/users/"+alice.User.ID, "/v1/clients/"+cl.Client.ID
	scopes := `{"` + f.api.ID + `":["read","write"]}`
	cases := []noopCase{
		{"PATCH", u, `{}`, ""},
		{"PATCH", u, `{"username":"alice","email":"alice@example.com","display_name":"Alice","groups":["dev","ops"],"admin":false,"enabled":true}`, ""},
		{"PATCH", u, `{"groups":["ops","dev","ops"]}`, ""},
		{"PUT", u + "/groups", `{"groups":["ops","dev"]}`, ""},
		{"PATCH", "/v1/users/" + bob.User.ID, `{"groups":[],"enabled":false}`, ""},
		{"PUT", "/v1/users/" + bob.User.ID + "/groups", `{"groups":[]}`, ""},
		{"POST", "/v1/users/" + bob.User.ID + "/disable", ``, ""},
		{"PATCH", c, `{}`, ""},
		{"PATCH", c, `{"name":"billing worker","api_scopes":` + scopes + `,"grant_types":["client_credentials"],` +
			`"access_token_format":"jwt","access_token_ttl":"1h","refresh_token_ttl":"720h",` +
			`"token_endpoint_auth_method":"client_secret_basic","redirect_uris":[],"post_logout_redirect_uris":[],` +
			`"first_party":false,"dpop_bound_access_tokens":false}`, ""},
		{"PUT", "/oauth2/register/" + reg.id, reg.body, "Bearer " + reg.token},
		{"PATCH", "/v1/keys/" + k.Key.ID, `{"allowed_cidrs":[],"ratelimits":[],"scopes":["read"]}`, ""},
		{"PATCH", "/v1/apis/" + f.api.ID, `{"policy":{"dynamic_client_scopes":["read","write"],"default_ratelimits":[],"user_scopes":[],"scope_descriptions":{}}}`, ""},
	}
	before := f.eventCount(t)
	for _, n := range cases {
		f.Clock.Advance(time.Second) // a new updated_at would differ
		f.checkNoOp(t, n)
	}

	// A real change of each still writes one event.
	if _, err := f.Client.UpdateUser(ctx, alice.User.ID, api.UpdateUserRequest{DisplayName: new("Alice B.")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.UpdateClient(ctx, cl.Client.ID, api.UpdateClientRequest{Name: new("renamed")}); err != nil {
		t.Fatal(err)
	}
	if after := f.eventCount(t); after != before+2 {
		t.Errorf("two changes wrote %d audit events, want 2", after-before)
	}
}

// checkNoOp sends n and checks that it answers 200 with the record as
// it was, writes no audit event and keeps updated_at.
func (f *fixture) checkNoOp(t *testing.T, n noopCase) {
	t.Helper()
	was, events, ctype := f.updatedAt(t, n.path), f.eventCount(t), ""
	if n.body != "" {
		ctype = "application/json"
	}
	resp, _, body := f.rawBody(t, n.method, n.path, ctype, n.body, n.auth)
	answered := !strings.HasPrefix(n.path, "/v1/") || strings.Contains(body, `"updated_at":"`+was+`"`)
	if resp.StatusCode != http.StatusOK || !answered {
		t.Errorf("%s %s %s: %d %s, want 200 with updated_at %s", n.method, n.path, n.body, resp.StatusCode, body, was)
	}
	if after := f.updatedAt(t, n.path); after != was {
		t.Errorf("%s %s %s: updated_at %s, was %s", n.method, n.path, n.body, after, was)
	}
	if after := f.eventCount(t); after != events {
		t.Errorf("%s %s %s: wrote %d audit events", n.method, n.path, n.body, after-events)
	}
}

// registration is a dynamically registered client: its id, its
// registration access token, and a PUT body repeating its metadata.
type registration struct{ id, token, body string }

func (f *fixture) registered(t *testing.T) registration {
	t.Helper()
	body := `{"client_name":"dyn","grant_types":["client_credentials"],"tokend_api_scopes":{"` + f.api.ID + `":["read"]}}`
	status, raw := f.post(t, "/oauth2/register", "application/json", body, nil)
	var r struct {
		ClientID                string `json:"client_id"`
		RegistrationAccessToken string `json:"registration_access_token"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || status != 201 {
		t.Fatalf("register: %d %s", status, raw)
	}
	// An RFC 7592 update must name the client (§2.2).
	return registration{r.ClientID, r.RegistrationAccessToken, `{"client_id":"` + r.ClientID + `",` + body[1:]}
}

// eventCount is the number of audit events.
func (f *fixture) eventCount(t *testing.T) int {
	t.Helper()
	l, err := f.Client.ListAudit(t.Context(), auditAll())
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Events)
}

// updatedAt is the updated_at of the user or client a path names, as
// GET answers it.
func (f *fixture) updatedAt(t *testing.T, path string) string {
	t.Helper()
	var at time.Time
	switch p := strings.Split(path, "/"); {
	case p[2] == "users":
		u, err := f.Client.GetUser(t.Context(), p[3])
		if err != nil {
			t.Fatal(err)
		}
		at = u.UpdatedAt
	case p[2] == "keys":
		k, err := f.Client.GetKey(t.Context(), p[3])
		if err != nil {
			t.Fatal(err)
		}
		at = k.UpdatedAt
	case p[2] == "apis":
		a, err := f.Client.GetAPI(t.Context(), p[3])
		if err != nil {
			t.Fatal(err)
		}
		at = a.UpdatedAt
	case p[2] == "clients" || p[2] == "register":
		c, err := f.Client.GetClient(t.Context(), p[3])
		if err != nil {
			t.Fatal(err)
		}
		at = c.UpdatedAt
	}
	return at.Format(time.RFC3339Nano)
}
