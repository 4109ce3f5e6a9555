package store

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newUser(id, username string, groups ...string) User {
	return User{ID: id, Username: username, Email: username + "@example.com", DisplayName: "User " + username,
		Groups: groups, Enabled: true, Source: "local", CreatedAt: t0, UpdatedAt: t0}
}

func mustCreateUser(t testing.TB, db *DB, u User) User {
	t.Helper()
	if err := db.CreateUser(t.Context(), u, event("user.create", u.ID)); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.ID, err)
	}
	if u.Groups == nil {
		u.Groups = []string{}
	}
	return u
}

func testUsers(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	alice := mustCreateUser(t, db, newUser("u1", "Alice", "ops", "dev"))
	for _, c := range []struct {
		u      User
		column string // what ConflictColumn names
	}{{newUser("u2", "alice"), "username"}, {newUser("u2", "ALICE"), "username"}, {newUser("u1", "bob"), ""}} {
		err := db.CreateUser(ctx, c.u, event("user.create", c.u.ID))
		checkErr(t, "CreateUser("+c.u.Username+")", err, ErrConflict)
		if got := ConflictColumn(err); got != c.column {
			t.Errorf("ConflictColumn(CreateUser(%s)) = %q, want %q", c.u.Username, got, c.column)
		}
	}
	for _, get := range []func() (User, error){
		func() (User, error) { return db.UserByID(ctx, "u1") },
		func() (User, error) { return db.UserByUsername(ctx, "aLiCe") },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(alice, got); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
	}
	_, err := db.UserByUsername(ctx, "carol")
	checkErr(t, "UserByUsername(carol)", err, ErrNotFound)
	_, err = db.UserByID(ctx, "nope")
	checkErr(t, "UserByID(nope)", err, ErrNotFound)
	checkLog(t, db, "user.create u1")
}

func testListUsers(t *testing.T, h harness) {
	db := h.open(t)
	mustCreateUser(t, db, newUser("u1", "alice", "ops"))
	mustCreateUser(t, db, newUser("u2", "Albert", "dev", "ops"))
	off := newUser("u3", "al_x", "dev")
	off.Enabled = false
	mustCreateUser(t, db, off)
	bob := newUser("u4", "bob")
	bob.Source = "ldap"
	mustCreateUser(t, db, bob)
	no, yes := false, true
	tests := []struct {
		name string
		f    UserFilter
		want []string
	}{
		{"all", UserFilter{Limit: 10}, []string{"u1", "u2", "u3", "u4"}},
		{"page", UserFilter{After: "u1", Limit: 2}, []string{"u2", "u3"}},
		{"prefix any case", UserFilter{UsernamePrefix: "AL", Limit: 10}, []string{"u1", "u2", "u3"}},
		{"prefix underscore is literal", UserFilter{UsernamePrefix: "al_", Limit: 10}, []string{"u3"}},
		{"prefix percent is literal", UserFilter{UsernamePrefix: "%", Limit: 10}, nil},
		{"group", UserFilter{Group: "ops", Limit: 10}, []string{"u1", "u2"}},
		{"group is exact", UserFilter{Group: "op", Limit: 10}, nil},
		{"disabled", UserFilter{Enabled: &no, Limit: 10}, []string{"u3"}},
		{"enabled in dev", UserFilter{Enabled: &yes, Group: "dev", Limit: 10}, []string{"u2"}},
		{"from the directory", UserFilter{Source: "ldap", Limit: 10}, []string{"u4"}},
	}
	for _, tt := range tests {
		us, err := db.ListUsers(t.Context(), tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, u := range us {
			got = append(got, u.ID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func testUpdateUser(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	got, err := db.UpdateUser(ctx, "u1", func(u *User) (Event, error) {
		u.ID, u.CreatedAt = "other", at(time.Hour) // ignored
		u.Username, u.Groups, u.Admin, u.PasswordHash = "Alice2", []string{"x"}, true, "$argon2id$h"
		u.PasswordChangedAt, u.UpdatedAt = at(time.Minute), at(time.Minute)
		return event("user.update", "u1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := newUser("u1", "alice")
	want.Username, want.Groups, want.Admin, want.PasswordHash = "Alice2", []string{"x"}, true, "$argon2id$h"
	want.PasswordChangedAt, want.UpdatedAt = at(time.Minute), at(time.Minute)
	stored, err := db.UserByID(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{got, stored} {
		if diff := cmp.Diff(want, u); diff != "" {
			t.Errorf("updated user (-want +got):\n%s", diff)
		}
	}
	_, err = db.UpdateUser(ctx, "u2", func(u *User) (Event, error) {
		u.Username = "ALICE2"
		return event("user.update", "u2"), nil
	})
	checkErr(t, "rename onto a taken username", err, ErrConflict)
	if got := ConflictColumn(err); got != "username" {
		t.Errorf("ConflictColumn(rename onto a taken username) = %q, want username", got)
	}
	refuse := errors.New("refused")
	_, err = db.UpdateUser(ctx, "u2", func(u *User) (Event, error) { return Event{}, refuse })
	checkErr(t, "update refused by the callback", err, refuse)
	_, err = db.UpdateUser(ctx, "nope", func(u *User) (Event, error) { return event("x", "nope"), nil })
	checkErr(t, "UpdateUser(nope)", err, ErrNotFound)
	checkErr(t, "DeleteUser(nope)", db.DeleteUser(ctx, "nope", event("user.delete", "nope")), ErrNotFound)
	if err := db.DeleteUser(ctx, "u2", event("user.delete", "u2")); err != nil {
		t.Fatal(err)
	}
	_, err = db.UserByID(ctx, "u2")
	checkErr(t, "UserByID after delete", err, ErrNotFound)
	checkLog(t, db, "user.create u1", "user.create u2", "user.update u1", "user.delete u2")
}

func testPasswordLinks(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	link := func(seed string) PasswordLink {
		return PasswordLink{Hash: sha256.Sum256([]byte(seed)), UserID: "u1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	}
	setHash := func(h string) func(*User) (Event, error) {
		return func(u *User) (Event, error) {
			u.PasswordHash = h
			return event("user.set_password", u.ID), nil
		}
	}
	for _, seed := range []string{"first", "second"} {
		if err := db.CreatePasswordLink(ctx, link(seed), event("user.password_link", "u1")); err != nil {
			t.Fatal(err)
		}
	}
	missing := link("x")
	missing.UserID = "nope"
	checkErr(t, "link for an unknown user", db.CreatePasswordLink(ctx, missing, event("x", "nope")), ErrNotFound)
	if id, err := db.PasswordLinkUser(ctx, link("second").Hash, t0); err != nil || id != "u1" {
		t.Errorf("PasswordLinkUser(second) = %q, %v; want u1", id, err)
	}
	_, err := db.PasswordLinkUser(ctx, link("first").Hash, t0)
	checkErr(t, "PasswordLinkUser of a replaced link", err, ErrNotFound)
	_, err = db.PasswordLinkUser(ctx, link("second").Hash, at(time.Hour))
	checkErr(t, "PasswordLinkUser of an expired link", err, ErrNotFound)
	_, err = db.UsePasswordLink(ctx, link("first").Hash, t0, setHash("h1"))
	checkErr(t, "a link replaced by a newer one", err, ErrNotFound)
	_, err = db.UsePasswordLink(ctx, link("second").Hash, at(time.Hour), setHash("h1"))
	checkErr(t, "an expired link", err, ErrNotFound)
	refuse := errors.New("refused")
	_, err = db.UsePasswordLink(ctx, link("second").Hash, t0, func(*User) (Event, error) { return Event{}, refuse })
	checkErr(t, "a use refused by the callback", err, refuse)
	u, err := db.UsePasswordLink(ctx, link("second").Hash, t0, setHash("h2"))
	if err != nil || u.PasswordHash != "h2" {
		t.Fatalf("UsePasswordLink = %+v, %v; want the hash h2 set", u, err)
	}
	_, err = db.UsePasswordLink(ctx, link("second").Hash, t0, setHash("h3"))
	checkErr(t, "a used link", err, ErrNotFound)
	if err := db.CreatePasswordLink(ctx, link("third"), event("user.password_link", "u1")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUser(ctx, "u1", setHash("h4")); err != nil {
		t.Fatal(err)
	}
	_, err = db.UsePasswordLink(ctx, link("third").Hash, t0, setHash("h5"))
	checkErr(t, "a link after the password was changed otherwise", err, ErrNotFound)
	checkLog(t, db, "user.create u1", "user.password_link u1", "user.password_link u1",
		"user.set_password u1", "user.password_link u1", "user.set_password u1")
}
