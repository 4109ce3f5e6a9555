package user_test

// These tests sign people in against a real OpenLDAP (ldaptest). They
// live in an external test package: package user must not import ldap,
// which implements user.Directory.

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ldap"
	"github.com/tokend/tokend/internal/ldap/ldaptest"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

var meta = user.ClientMeta{IP: "192.0.2.44", UserAgent: "ldap-test"}

type dirEnv struct {
	db  *store.DB
	svc *user.Service
	s   *ldaptest.Server
}

func newDirEnv(t *testing.T, url string) *dirEnv {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "tokend.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &dirEnv{db: db}
	if url == "" {
		e.s = ldaptest.Start(t)
		url = e.s.URL
	}
	cfg := ldap.Config{URL: url, BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword,
		UserBase: ldaptest.PeopleBase, GroupBase: ldaptest.GroupBase, Timeout: 5 * time.Second}
	if e.s != nil {
		cfg.CAFile = e.s.CAFile
	} else {
		cfg.InsecureNoStartTLS = true
	}
	d, err := ldap.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = user.New(user.Config{DB: db, Directory: d, Params: user.Params{Time: 1, Memory: 64, Threads: 1}})
	return e
}

// modify changes the directory as its root.
func (e *dirEnv) modify(t *testing.T, req *goldap.ModifyRequest) {
	t.Helper()
	c, err := goldap.DialURL(e.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(ldaptest.RootDN, ldaptest.RootPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.Modify(req); err != nil {
		t.Fatal(err)
	}
}

func (e *dirEnv) remove(t *testing.T, dn string) {
	t.Helper()
	c, err := goldap.DialURL(e.s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(ldaptest.RootDN, ldaptest.RootPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(goldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestDirectorySignIn(t *testing.T) {
	e := newDirEnv(t, "")
	ctx := t.Context()
	si, err := e.svc.SignIn(ctx, "alice", "alice-password-1", meta)
	if err != nil {
		t.Fatal(err)
	}
	u := si.User
	if u.Username != "alice" || u.Source != api.UserSourceLDAP || u.Email != "alice@example.com" ||
		u.DisplayName != "Alice Liddell" || !slices.Equal(u.Groups, []string{"admins", "staff"}) || u.HasPassword || u.Admin {
		t.Errorf("provisioned user = %+v", u)
	}
	if _, _, err := e.svc.CheckSession(ctx, si.Token); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ username, password string }{
		{"alice", "wrong-password"}, {"nobody", "alice-password-1"}, {"*", "alice-password-1"},
		{"alice)(uid=*", "alice-password-1"}, {"al*", "alice-password-1"}, {"alice", ""},
	} {
		if _, err := e.svc.SignIn(ctx, tc.username, tc.password, user.ClientMeta{IP: "192.0.2.99"}); !errors.Is(err, user.ErrInvalidCredentials) {
			t.Errorf("SignIn(%q) = %v, want ErrInvalidCredentials", tc.username, err)
		}
	}
	if _, err := e.svc.SignIn(ctx, "bob", "bob-password-1", meta); !errors.Is(err, user.ErrDisabled) {
		t.Errorf("SignIn(locked bob) = %v, want ErrDisabled", err)
	}
	if _, err := e.db.UserByUsername(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a locked directory user was provisioned: %v", err)
	}

	// Groups follow the directory at the next sign-in.
	rm := goldap.NewModifyRequest("cn=staff,"+ldaptest.GroupBase, nil)
	rm.Delete("member", []string{"uid=alice," + ldaptest.PeopleBase})
	e.modify(t, rm)
	again, err := e.svc.SignIn(ctx, "ALICE", "alice-password-1", meta)
	if err != nil {
		t.Fatal(err)
	}
	if again.User.ID != u.ID || !slices.Equal(again.User.Groups, []string{"admins"}) {
		t.Errorf("second sign-in = %+v, want the same user with groups [admins]", again.User)
	}

	// A person locked in the directory loses their sessions at the next
	// check, and cannot sign in, not even with a passkey.
	carol, err := e.svc.SignIn(ctx, "carol", "carol-password-1", meta)
	if err != nil {
		t.Fatal(err)
	}
	lock := goldap.NewModifyRequest("uid=alice,"+ldaptest.PeopleBase, nil)
	lock.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	e.modify(t, lock)
	e.remove(t, "uid=carol,"+ldaptest.PeopleBase)
	if _, _, err := e.svc.CheckSession(ctx, si.Token); err != nil {
		t.Fatalf("a session ended before the directory check: %v", err)
	}
	if err := e.svc.CheckDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{si.Token, again.Token, carol.Token} {
		if _, _, err := e.svc.CheckSession(ctx, tok); !errors.Is(err, user.ErrNoSession) {
			t.Errorf("CheckSession after the directory check = %v, want ErrNoSession", err)
		}
	}
	if _, err := e.svc.SignIn(ctx, "alice", "alice-password-1", meta); !errors.Is(err, user.ErrDisabled) {
		t.Errorf("SignIn(alice locked) = %v, want ErrDisabled", err)
	}
	if _, err := e.svc.StartSession(ctx, u.ID, []string{"hwk"}, meta); !errors.Is(err, user.ErrDisabled) {
		t.Errorf("StartSession(alice locked, passkey) = %v, want ErrDisabled", err)
	}
	// Both are disabled here for the directory (their tokens stop), and
	// alice is enabled again by the check after the directory unlocks
	// her; carol, gone from the directory, stays disabled.
	for _, name := range []string{"alice", "carol"} {
		if su, err := e.db.UserByUsername(ctx, name); err != nil || su.Enabled || !su.DirectoryDisabled {
			t.Errorf("%s after the check = %+v, %v, want disabled for the directory", name, su, err)
		}
	}
	unlock := goldap.NewModifyRequest("uid=alice,"+ldaptest.PeopleBase, nil)
	unlock.Delete("pwdAccountLockedTime", nil)
	e.modify(t, unlock)
	if err := e.svc.CheckDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if su, err := e.db.UserByUsername(ctx, "alice"); err != nil || !su.Enabled || su.DirectoryDisabled {
		t.Errorf("alice after the directory unlocked her = %+v, %v, want enabled", su, err)
	}
	if su, _ := e.db.UserByUsername(ctx, "carol"); su.Enabled {
		t.Error("carol, gone from the directory, was enabled again")
	}
	if _, err := e.svc.SignIn(ctx, "alice", "alice-password-1", meta); err != nil {
		t.Errorf("SignIn(alice unlocked) = %v", err)
	}
	// An admin's disable is not the directory's to undo.
	if _, err := e.svc.Disable(ctx, audit.System, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if su, _ := e.db.UserByID(ctx, u.ID); su.Enabled {
		t.Error("the directory check enabled a person an admin disabled")
	}
}

// TestDirectoryDown: a directory that does not answer is ErrUnavailable
// for people tokend does not know or got from it; local users sign in as
// ever.
func TestDirectoryDown(t *testing.T) {
	port := ldaptest.FreePort(t) // nothing listens there
	e := newDirEnv(t, "ldap://127.0.0.1:"+port)
	ctx := t.Context()
	admin := audit.Actor{ID: "test"}
	const pw = "violet-harbour-lantern-42"
	if _, err := e.svc.Create(ctx, admin, api.CreateUserRequest{Username: "local", Password: pw}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, "alice", "alice-password-1", meta); !errors.Is(err, user.ErrUnavailable) {
		t.Errorf("SignIn(directory down) = %v, want ErrUnavailable", err)
	}
	if _, err := e.svc.SignIn(ctx, "local", pw, meta); err != nil {
		t.Errorf("SignIn(local, directory down) = %v", err)
	}
	if _, err := e.svc.SignIn(ctx, "local", "wrong-password-1", meta); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("SignIn(local, wrong, directory down) = %v, want ErrInvalidCredentials", err)
	}
}

// TestDirectorySignInEqualWork: with a directory, a sign-in as someone
// nobody knows, as a directory user with a wrong password and as a local
// user with a wrong password each check one password with argon2id, so
// that the time of the refusal does not tell which it was. (The times
// themselves are not asserted: the test counts the work.)
func TestDirectorySignInEqualWork(t *testing.T) {
	e := newDirEnv(t, "")
	ctx := t.Context()
	if _, err := e.svc.Create(ctx, audit.Actor{ID: "test"}, api.CreateUserRequest{Username: "local-lou",
		Password: "harbour-lantern-quiet-7"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ what, username string }{
		{"unknown user", "nobody-at-all"}, {"directory user, wrong password", "alice"},
		{"local user, wrong password", "local-lou"}, {"filter metacharacters", "al*)(uid=*"},
	} {
		before := user.PasswordChecks(e.svc)
		_, err := e.svc.SignIn(ctx, tc.username, "not-the-password-9", user.ClientMeta{IP: "192.0.2.7"})
		if !errors.Is(err, user.ErrInvalidCredentials) {
			t.Fatalf("%s: SignIn = %v, want ErrInvalidCredentials", tc.what, err)
		}
		if n := user.PasswordChecks(e.svc) - before; n != 1 {
			t.Errorf("%s: %d argon2id checks, want 1 as for every refusal", tc.what, n)
		}
	}
}

// TestDirectoryReauthenticate: a directory user proves themselves again
// with the directory's password; a wrong one is refused.
func TestDirectoryReauthenticate(t *testing.T) {
	e := newDirEnv(t, "")
	ctx := t.Context()
	si, err := e.svc.SignIn(ctx, "alice", "alice-password-1", meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reauthenticate(ctx, si.User.ID, "alice-password-1"); err != nil {
		t.Errorf("Reauthenticate(the directory's password) = %v", err)
	}
	if err := e.svc.Reauthenticate(ctx, si.User.ID, "not-alice-password"); !errors.Is(err, user.ErrInvalidCredentials) {
		t.Errorf("Reauthenticate(a wrong password) = %v, want ErrInvalidCredentials", err)
	}
}
