package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

const userPassword = "violet-harbour-lantern-42"

// setPassword consumes a set-password link without any key, as the
// person holding the link does.
func (f *fixture) setPassword(t *testing.T, token, password string) error {
	t.Helper()
	body, _ := json.Marshal(api.SetPasswordRequest{Token: token, Password: password})
	resp, p := f.raw(t, "POST", "/v1/users/set-password", "application/json", string(body), "none")
	if resp.StatusCode != http.StatusNoContent {
		return &p
	}
	return nil
}

func TestUserLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Email: "alice@example.com",
		Groups: []string{"ops"}, Admin: true, Password: userPassword})
	if err != nil || !alice.HasPassword || alice.PasswordLink != nil || !alice.Admin || alice.Source != "local" {
		t.Fatalf("CreateUser(with password) = %+v, %v", alice, err)
	}
	bob, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "Bob", Groups: []string{"dev"}})
	if err != nil || bob.HasPassword || bob.PasswordLink == nil || !strings.HasPrefix(bob.PasswordLink.Token, "tksp_") {
		t.Fatalf("CreateUser(without password) = %+v, %v", bob, err)
	}
	if _, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "BOB"}); problemCode(err) != api.ErrConflict {
		t.Errorf("CreateUser(BOB) = %v, want conflict", err)
	}
	if err := f.setPassword(t, bob.PasswordLink.Token, userPassword); err != nil {
		t.Fatalf("SetPassword without a key = %v", err)
	}
	if err := f.Client.SetPassword(ctx, bob.PasswordLink.Token, userPassword); problemCode(err) != api.ErrInvalidField {
		t.Errorf("SetPassword with a used link = %v, want invalid-field", err)
	}
	got, err := f.Client.GetUser(ctx, bob.ID)
	if err != nil || !got.HasPassword {
		t.Errorf("GetUser after set-password = %+v, %v", got, err)
	}
	got, err = f.Client.UpdateUser(ctx, bob.ID, api.UpdateUserRequest{DisplayName: new("Bob B."), Email: new("b@example.com")})
	if err != nil || got.DisplayName != "Bob B." || got.Email != "b@example.com" {
		t.Errorf("UpdateUser = %+v, %v", got, err)
	}
	got, err = f.Client.SetUserGroups(ctx, bob.ID, []string{"ops", "dev"})
	if err != nil || !cmp.Equal(got.Groups, []string{"dev", "ops"}) {
		t.Errorf("SetUserGroups = %+v, %v", got, err)
	}
	got, err = f.Client.DisableUser(ctx, alice.ID)
	if err != nil || got.Enabled {
		t.Errorf("DisableUser = %+v, %v", got, err)
	}
	link, err := f.Client.IssuePasswordLink(ctx, bob.ID)
	if err != nil || !strings.HasPrefix(link.Token, "tksp_") {
		t.Fatalf("IssuePasswordLink = %+v, %v", link, err)
	}
	if err := f.Client.SetPassword(ctx, link.Token, "password1234"); problemCode(err) != api.ErrInvalidField {
		t.Errorf("SetPassword(common) = %v, want invalid-field", err)
	}
	if err := f.Client.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.GetUser(ctx, bob.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("GetUser after delete = %v, want not-found", err)
	}
	evs, err := f.Client.ListAudit(ctx, client.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs.Events {
		if e.TargetType == "user" {
			actions = append(actions, e.Action)
		}
	}
	want := []string{"user.delete", "user.password_link", "user.update", "user.update", "user.update",
		"user.set_password", "user.password_link", "user.create", "user.create"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("user audit events, newest first (-want +got):\n%s", diff)
	}
}

func TestListUsersFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, u := range []api.CreateUserRequest{
		{Username: "alice", Groups: []string{"ops"}}, {Username: "albert", Groups: []string{"dev"}},
		{Username: "bob", Groups: []string{"ops"}},
	} {
		if _, err := f.Client.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(opts client.ListUsersOptions) ([]string, string) {
		t.Helper()
		l, err := f.Client.ListUsers(ctx, opts)
		if err != nil {
			t.Fatalf("ListUsers(%+v): %v", opts, err)
		}
		var out []string
		for _, u := range l.Users {
			out = append(out, u.Username)
		}
		slices.Sort(out) // ids made in the same millisecond sort randomly
		return out, l.NextCursor
	}
	on := true
	tests := []struct {
		opts client.ListUsersOptions
		want []string
	}{
		{client.ListUsersOptions{}, []string{"albert", "alice", "bob"}},
		{client.ListUsersOptions{UsernamePrefix: "AL"}, []string{"albert", "alice"}},
		{client.ListUsersOptions{Group: "ops"}, []string{"alice", "bob"}},
		{client.ListUsersOptions{Group: "ops", Enabled: &on, UsernamePrefix: "b"}, []string{"bob"}},
	}
	for _, tt := range tests {
		if got, _ := names(tt.opts); !cmp.Equal(got, tt.want) {
			t.Errorf("ListUsers(%+v) = %v, want %v", tt.opts, got, tt.want)
		}
	}
	var all []string
	cursor := ""
	for range 4 {
		page, next := names(client.ListUsersOptions{Limit: 1, Cursor: cursor})
		all = append(all, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	slices.Sort(all)
	if want := []string{"albert", "alice", "bob"}; !cmp.Equal(all, want) {
		t.Errorf("pages of one = %v, want %v", all, want)
	}
}

func TestUsersBadInput(t *testing.T) {
	f := newFixture(t)
	u, err := f.Client.CreateUser(t.Context(), api.CreateUserRequest{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, body, auth string
		status                   int
		code                     string
	}{
		{"POST", "/v1/users", `{"username":"x","shoe_size":42}`, "", 400, api.ErrBadRequest},
		{"POST", "/v1/users", `{"username":"a b"}`, "", 400, api.ErrInvalidField},
		{"POST", "/v1/users", `{"username":"carol","password":"short"}`, "", 400, api.ErrInvalidField},
		{"POST", "/v1/users", `{"username":"carol","password":"qwerty123456"}`, "", 400, api.ErrInvalidField},
		{"POST", "/v1/users", `{"username":"carol"}`, "none", 401, api.ErrUnauthorized},
		{"PATCH", "/v1/users/" + u.ID, `{"password":"violet-harbour-lantern-42"}`, "", 400, api.ErrBadRequest},
		{"PATCH", "/v1/users/" + u.ID, `{"groups":[""]}`, "", 400, api.ErrInvalidField},
		{"PATCH", "/v1/users/usr_nope", `{"email":"x@example.com"}`, "", 404, api.ErrNotFound},
		{"GET", "/v1/users?enabled=maybe", "", "", 400, api.ErrInvalidField},
		{"PUT", "/v1/users/" + u.ID + "/groups", `{}`, "", 400, api.ErrInvalidField},
		{"POST", "/v1/users/set-password", `{"token":"tksp_nope","password":"violet-harbour-lantern-42"}`, "none", 400, api.ErrInvalidField},
		{"POST", "/v1/users/set-password", `{"token":"` + u.PasswordLink.Token + `","extra":1}`, "none", 400, api.ErrBadRequest},
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
	// None of the refused requests changed anything: the link still works.
	if err := f.setPassword(t, u.PasswordLink.Token, userPassword); err != nil {
		t.Errorf("SetPassword after the refused requests = %v", err)
	}
	if resp, _ := f.raw(t, "GET", "/v1/users/"+u.ID, "", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET user = %d", resp.StatusCode)
	}
}

// TestNoUserSecretInDatabaseOrLogs: passwords and set-password tokens
// reach neither the database files nor the server log.
func TestNoUserSecretInDatabaseOrLogs(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	token := u.PasswordLink.Token
	if err := f.setPassword(t, token, userPassword); err != nil {
		t.Fatal(err)
	}
	const second = "amber-meadow-falcon-77"
	if _, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "dave", Password: second}); err != nil {
		t.Fatal(err)
	}
	f.raw(t, "POST", "/v1/users/set-password", "application/json", `{"token":"`+token+`","password":"`+second+`"}`, "none")
	db := readAll(t, f.DBPath, f.DBPath+"-wal")
	logs := f.Logs.String()
	for _, secret := range []string{token, userPassword, second} {
		if strings.Contains(string(db), secret) {
			t.Errorf("database holds %.8s… in clear", secret)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %.8s… in clear", secret)
		}
	}
}

// TestUsernameTakenSaysSo checks that a username taken in another case
// is a 409 problem naming the username, on create and on rename, not
// the generic "a resource with this id exists".
func TestUsernameTakenSaysSo(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	bob, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/users", `{"username":"ALICE"}`},
		{"PATCH", "/v1/users/" + bob.ID, `{"username":"Alice"}`},
	} {
		resp, p := f.raw(t, c.method, c.path, "application/json", c.body, "")
		if resp.StatusCode != http.StatusConflict || p.Field != "username" || !strings.Contains(p.Detail, "username") {
			t.Errorf("%s %s: %d %+v, want 409 naming the username", c.method, c.path, resp.StatusCode, p)
		}
	}
}
