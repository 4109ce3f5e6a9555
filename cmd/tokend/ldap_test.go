package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/ldap/ldaptest"
)

// TestServeRefusesBadLDAPSettings: each LDAP mistake stops the start
// with exit 2 and a message naming the flag, before anything is opened.
func TestServeRefusesBadLDAPSettings(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "bind-password")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(pw, []byte("search-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	url, base := []string{"--ldap-url", "ldap://dc.example.com"}, []string{"--ldap-user-base", "ou=people,dc=example,dc=com"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"user base without a URL", base, nil, "--ldap-user-base needs --ldap-url"},
		{"preset without a URL", []string{"--ldap-preset", "ad"}, nil, "--ldap-preset needs --ldap-url"},
		{"URL without a user base", url, nil, "--ldap-url needs --ldap-user-base"},
		{"http URL", append([]string{"--ldap-url", "http://dc.example.com"}, base...), nil, "neither ldap:// (with StartTLS) nor ldaps://"},
		{"bad URL from the environment", base, map[string]string{"TOKEND_LDAP_URL": "dc.example.com"}, "is not ldap://host"},
		{"ldaps in clear text", append([]string{"--ldap-url", "ldaps://dc.example.com", "--ldap-insecure-no-starttls"}, base...), nil, "only to an ldap:// URL"},
		{"bind DN without password file", append(append([]string{"--ldap-bind-dn", "cn=search"}, url...), base...), nil, "go together"},
		{"password file missing", append(append([]string{"--ldap-bind-dn", "cn=search", "--ldap-bind-password-file", filepath.Join(dir, "nope")}, url...), base...), nil, "--ldap-bind-password-file"},
		{"password file empty", append(append([]string{"--ldap-bind-dn", "cn=search", "--ldap-bind-password-file", empty}, url...), base...), nil, "is empty"},
		{"password as a flag", append(append([]string{"--ldap-bind-password", "search-secret"}, url...), base...), nil, "ldap-bind-password"},
		{"unknown preset", append(append([]string{"--ldap-preset", "novell"}, url...), base...), nil, `unknown preset "novell"`},
		{"user filter without %s", append(append([]string{"--ldap-user-filter", "(uid=alice)"}, url...), base...), nil, "no %s for the username"},
		{"user filter unbalanced", append(append([]string{"--ldap-user-filter", "(uid=%s"}, url...), base...), nil, "the user filter"},
		{"group filter without group base", append(append([]string{"--ldap-group-filter", "(member=%s)"}, url...), base...), nil, "--ldap-group-filter needs --ldap-group-base"},
		{"CA file not PEM", append(append([]string{"--ldap-ca-file", pw}, url...), base...), nil, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "d")}, tc.args...)
			code, _, stderr := runTokend(t, tc.env, args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "search-secret\n") {
				t.Errorf("stderr carries the bind password: %s", stderr)
			}
		})
	}
}

// TestServeWithLDAP: a configured directory is pinged at start. One that
// answers is logged as reachable; one that is down, or refuses the
// search account, is a warning and the node serves its local API anyway.
// The bind password never reaches the log.
func TestServeWithLDAP(t *testing.T) {
	s := ldaptest.Start(t)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte(ldaptest.SearchPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("wrong-search-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--ldap-bind-dn", ldaptest.SearchDN, "--ldap-user-base", ldaptest.PeopleBase, "--ldap-group-base", ldaptest.GroupBase}
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"reachable over StartTLS", `"msg":"LDAP directory reachable"`,
			[]string{"--ldap-url", s.URL, "--ldap-ca-file", s.CAFile, "--ldap-bind-password-file", good}},
		{"reachable over ldaps with the AD preset", `"msg":"LDAP directory reachable"`,
			[]string{"--ldap-url", s.LDAPSURL, "--ldap-ca-file", s.CAFile, "--ldap-bind-password-file", good, "--ldap-preset", "ad"}},
		{"down", `LDAP directory unreachable`,
			[]string{"--ldap-url", "ldap://127.0.0.1:" + ldaptest.FreePort(t), "--ldap-insecure-no-starttls", "--ldap-bind-password-file", good}},
		{"wrong search password", `bind as the search account`,
			[]string{"--ldap-url", s.URL, "--ldap-ca-file", s.CAFile, "--ldap-bind-password-file", bad}},
		{"unknown CA", `LDAP directory unreachable`,
			[]string{"--ldap-url", s.URL, "--ldap-ca-file", s.OtherCAFile, "--ldap-bind-password-file", good}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _, logs, _ := startServe(t, t.TempDir(), append(append([]string{}, common...), tc.args...)...)
			waitLog(t, logs, tc.want)
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/healthz: %d", resp.StatusCode)
			}
			if l := logs.String(); strings.Contains(l, ldaptest.SearchPassword) || strings.Contains(l, "wrong-search-secret") {
				t.Errorf("the log carries the bind password:\n%s", l)
			}
		})
	}
}

// waitLog waits for want to appear in logs: the ping runs beside the
// start, bounded by --ldap-timeout.
func waitLog(t *testing.T, logs *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", want, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
