package ldap

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tokend/tokend/internal/ldap/ldaptest"
	"github.com/tokend/tokend/internal/user"
)

// openLDAP is the Config of the test directory's people, over StartTLS
// with the test CA.
func openLDAP(s *ldaptest.Server) Config {
	return Config{URL: s.URL, CAFile: s.CAFile, BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword,
		UserBase: ldaptest.PeopleBase, GroupBase: ldaptest.GroupBase}
}

// activeDirectory is the Config of the AD-like entries, over ldaps://.
func activeDirectory(s *ldaptest.Server) Config {
	return Config{URL: s.LDAPSURL, CAFile: s.CAFile, Preset: PresetAD, BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword,
		UserBase: ldaptest.ADBase}
}

func newDirectory(t *testing.T, c Config) *Directory {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	alice = user.Entry{Username: "alice", Email: "alice@example.com", DisplayName: "Alice Liddell",
		Groups: []string{"admins", "staff"}}
	eve = user.Entry{Username: "eve", Email: "eve@example.com", DisplayName: "Eve Adams",
		Groups: []string{"Domain Users", "admins"}}
)

type signIn struct {
	name               string
	username, password string
	want               user.Entry
	wantErr            error
}

func checkSignIns(t *testing.T, d *Directory, cases []signIn) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Authenticate(context.Background(), tc.username, tc.password)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Authenticate(%q) error = %v, want %v", tc.username, err, tc.wantErr)
			}
			if errors.Is(err, user.ErrInvalidCredentials) && (errors.Is(err, user.ErrUnavailable) || errors.Is(err, user.ErrDisabled)) {
				t.Errorf("error %v says more than invalid credentials", err)
			}
			if err != nil && tc.password != "" && strings.Contains(err.Error(), tc.password) {
				t.Errorf("error %q carries the password", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthenticateOpenLDAP signs in against slapd over StartTLS: groups
// come from groupOfNames, a wrong password and an unknown user give the
// same error, and the locked user is refused once the password is right.
func TestAuthenticateOpenLDAP(t *testing.T) {
	s := ldaptest.Start(t)
	d := newDirectory(t, openLDAP(s))
	locked := user.Entry{Username: "bob", Email: "bob@example.com", DisplayName: "Bob Locked", Groups: []string{"staff"}, Disabled: true}
	checkSignIns(t, d, []signIn{
		{"good password", "alice", "alice-password-1", alice, nil},
		{"username in another case", "ALICE", "alice-password-1", alice, nil},
		{"no groups, name from cn", "carol", "carol-password-1", user.Entry{Username: "carol", DisplayName: "Carol"}, nil},
		{"wrong password", "alice", "alice-password-2", user.Entry{}, user.ErrInvalidCredentials},
		{"unknown user", "mallory", "alice-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"empty password (an unauthenticated bind)", "alice", "", user.Entry{}, user.ErrInvalidCredentials},
		{"empty username", "", "alice-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"username too long", strings.Repeat("a", 257), "alice-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"username not UTF-8", "alice\xff", "alice-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"locked user, right password", "bob", "bob-password-1", locked, user.ErrDisabled},
		{"locked user, wrong password", "bob", "bob-password-2", user.Entry{}, user.ErrInvalidCredentials},
	})
}

// TestAuthenticateRefusesFilterInjection: filter metacharacters in the
// username are matched literally. Unescaped, "al*" would find alice and
// sign in with her password, and "*" or ")(uid=*" would match everyone.
func TestAuthenticateRefusesFilterInjection(t *testing.T) {
	s := ldaptest.Start(t)
	var cases []signIn
	for _, u := range []string{"al*", "*", "*)(uid=*", ")(uid=*", "alice)(uid=*", "alice)(|(uid=*)", "alice\\", "alice\\2a",
		"alice\x00", "\x00", "a*e", "alice)(objectClass=*"} {
		cases = append(cases, signIn{"username " + u, u, "alice-password-1", user.Entry{}, user.ErrInvalidCredentials})
	}
	t.Run("OpenLDAP", func(t *testing.T) { checkSignIns(t, newDirectory(t, openLDAP(s)), cases) })
	for i := range cases {
		cases[i].username = strings.ReplaceAll(cases[i].username, "alice", "eve")
		cases[i].name = strings.ReplaceAll(cases[i].name, "alice", "eve")
		cases[i].password = "eve-password-1"
	}
	cases = append(cases, signIn{"UPN wildcard", "eve@*", "eve-password-1", user.Entry{}, user.ErrInvalidCredentials},
		signIn{"AD filter break-out", "x)(sAMAccountName=eve", "eve-password-1", user.Entry{}, user.ErrInvalidCredentials})
	t.Run("ActiveDirectory", func(t *testing.T) { checkSignIns(t, newDirectory(t, activeDirectory(s)), cases) })
}

// TestAuthenticateActiveDirectory signs in with the AD preset over
// ldaps://: by sAMAccountName or userPrincipalName, groups from memberOf,
// disabled by userAccountControl, expired by accountExpires.
func TestAuthenticateActiveDirectory(t *testing.T) {
	s := ldaptest.Start(t)
	d := newDirectory(t, activeDirectory(s))
	frank := user.Entry{Username: "frank", DisplayName: "frank", Disabled: true}
	checkSignIns(t, d, []signIn{
		{"sAMAccountName", "eve", "eve-password-1", eve, nil},
		{"userPrincipalName", "eve@example.com", "eve-password-1", eve, nil},
		{"userPrincipalName in capitals", "EVE@EXAMPLE.COM", "eve-password-1", eve, nil},
		{"wrong password", "eve", "frank-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"unknown user", "mallory@example.com", "eve-password-1", user.Entry{}, user.ErrInvalidCredentials},
		{"ACCOUNTDISABLE", "frank", "frank-password-1", frank, user.ErrDisabled},
		{"ACCOUNTDISABLE, wrong password", "frank", "eve-password-1", user.Entry{}, user.ErrInvalidCredentials},
	})
	gina := user.Entry{Username: "gina", DisplayName: "gina"}
	for _, tc := range []struct {
		now     time.Time
		wantErr error
	}{
		{time.Date(2029, 12, 31, 23, 59, 59, 0, time.UTC), nil},
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), user.ErrDisabled},
	} {
		c := activeDirectory(s)
		c.Now = func() time.Time { return tc.now }
		want := gina
		want.Disabled = tc.wantErr != nil
		checkSignIns(t, newDirectory(t, c), []signIn{{"accountExpires at " + tc.now.String(), "gina", "gina-password-1", want, tc.wantErr}})
	}
}

// TestLookup is the periodic check: present, disabled and gone people.
func TestLookup(t *testing.T) {
	s := ldaptest.Start(t)
	ol, ad := newDirectory(t, openLDAP(s)), newDirectory(t, activeDirectory(s))
	for _, tc := range []struct {
		name     string
		d        *Directory
		username string
		want     user.Entry
		wantErr  error
	}{
		{"present", ol, "alice", alice, nil},
		{"locked: Disabled, no error", ol, "bob", user.Entry{Username: "bob", Email: "bob@example.com", DisplayName: "Bob Locked",
			Groups: []string{"staff"}, Disabled: true}, nil},
		{"gone", ol, "mallory", user.Entry{}, user.ErrNotFound},
		{"wildcard matches no one", ol, "al*", user.Entry{}, user.ErrNotFound},
		{"matching several is no one", ol, "*", user.Entry{}, user.ErrNotFound},
		{"empty", ol, "", user.Entry{}, user.ErrNotFound},
		{"AD present", ad, "eve", eve, nil},
		{"AD disabled", ad, "frank", user.Entry{Username: "frank", DisplayName: "frank", Disabled: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.d.Lookup(context.Background(), tc.username)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Lookup(%q) error = %v, want %v", tc.username, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTransport: StartTLS and ldaps:// check the directory's certificate
// against the CA file; clear text needs InsecureNoStartTLS; a wrong
// search account is the directory's fault, not the user's.
func TestTransport(t *testing.T) {
	s := ldaptest.Start(t)
	with := func(f func(*Config)) Config {
		c := openLDAP(s)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name    string
		c       Config
		wantErr error
	}{
		{"StartTLS, the right CA", openLDAP(s), nil},
		{"StartTLS, another CA", with(func(c *Config) { c.CAFile = s.OtherCAFile }), user.ErrUnavailable},
		{"StartTLS, the system CAs", with(func(c *Config) { c.CAFile = "" }), user.ErrUnavailable},
		{"ldaps, the right CA", with(func(c *Config) { c.URL = s.LDAPSURL }), nil},
		{"ldaps, another CA", with(func(c *Config) { c.URL, c.CAFile = s.LDAPSURL, s.OtherCAFile }), user.ErrUnavailable},
		{"ldaps, name not in the certificate", with(func(c *Config) { c.URL = strings.Replace(s.LDAPSURL, "localhost", "127.0.0.2", 1) }), user.ErrUnavailable},
		{"clear text when asked", with(func(c *Config) { c.CAFile, c.InsecureNoStartTLS = "", true }), nil},
		{"wrong search password", with(func(c *Config) { c.BindPassword = "wrong-search-secret" }), user.ErrUnavailable},
		{"user base that does not exist", with(func(c *Config) { c.UserBase = "ou=nowhere," + ldaptest.Suffix }), user.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDirectory(t, tc.c)
			_, err := d.Authenticate(context.Background(), "alice", "alice-password-1")
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Authenticate error = %v, want %v", err, tc.wantErr)
			}
			if errors.Is(err, user.ErrInvalidCredentials) {
				t.Errorf("a directory fault is blamed on the user: %v", err)
			}
			if err != nil && (strings.Contains(err.Error(), "alice-password-1") || strings.Contains(err.Error(), tc.c.BindPassword)) {
				t.Errorf("error %q carries a password", err)
			}
			if err := d.Ping(context.Background()); tc.name != "user base that does not exist" && !errors.Is(err, tc.wantErr) {
				t.Errorf("Ping error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestStartTLSNeverFallsBack: a directory that refuses StartTLS is
// unavailable; tokend does not send the passwords in clear instead.
func TestStartTLSNeverFallsBack(t *testing.T) {
	s := ldaptest.StartWithoutTLS(t)
	c := Config{URL: s.URL, BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword, UserBase: ldaptest.PeopleBase}
	_, err := newDirectory(t, c).Authenticate(context.Background(), "alice", "alice-password-1")
	if !errors.Is(err, user.ErrUnavailable) || !strings.Contains(err.Error(), "StartTLS") {
		t.Errorf("Authenticate error = %v, want ErrUnavailable from StartTLS", err)
	}
	c.InsecureNoStartTLS = true
	if _, err := newDirectory(t, c).Authenticate(context.Background(), "alice", "alice-password-1"); err != nil {
		t.Errorf("in clear text when asked: %v", err)
	}
}

// TestDirectoryDown: a directory that refuses connections, or accepts
// them and never answers, is ErrUnavailable once Timeout has passed,
// whether it hangs in the bind, in StartTLS or in the TLS handshake.
func TestDirectoryDown(t *testing.T) {
	hanging := hangingServer(t)
	closed := "ldap://127.0.0.1:" + ldaptest.FreePort(t)
	for _, tc := range []struct {
		name string
		c    Config
	}{
		{"nothing listening", Config{URL: closed, InsecureNoStartTLS: true}},
		{"hangs in the bind", Config{URL: "ldap://" + hanging, InsecureNoStartTLS: true}},
		{"hangs in StartTLS", Config{URL: "ldap://" + hanging}},
		{"hangs in the TLS handshake", Config{URL: "ldaps://" + hanging}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.UserBase, tc.c.BindDN, tc.c.BindPassword = ldaptest.PeopleBase, ldaptest.SearchDN, ldaptest.SearchPassword
			tc.c.Timeout, tc.c.DialTimeout = 300*time.Millisecond, 300*time.Millisecond
			d := newDirectory(t, tc.c)
			if _, err := d.Authenticate(context.Background(), "alice", "alice-password-1"); !errors.Is(err, user.ErrUnavailable) {
				t.Errorf("Authenticate error = %v, want ErrUnavailable", err)
			}
			if _, err := d.Lookup(context.Background(), "alice"); !errors.Is(err, user.ErrUnavailable) {
				t.Errorf("Lookup error = %v, want ErrUnavailable", err)
			}
			if err := d.Ping(context.Background()); !errors.Is(err, user.ErrUnavailable) {
				t.Errorf("Ping error = %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("caller gives up first", func(t *testing.T) {
		d := newDirectory(t, Config{URL: "ldap://" + hanging, InsecureNoStartTLS: true, UserBase: ldaptest.PeopleBase})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := d.Authenticate(ctx, "alice", "alice-password-1"); !errors.Is(err, user.ErrUnavailable) {
			t.Errorf("Authenticate error = %v, want ErrUnavailable", err)
		}
	})
}

// hangingServer accepts connections and reads them without ever
// answering, like a directory that is stuck.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.Copy(io.Discard, c) // until tokend gives up and closes
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}
