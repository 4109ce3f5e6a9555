package ldap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFillEscapes: the username is escaped per RFC 4515 wherever %s
// stands, so it can never add a clause to the filter.
func TestFillEscapes(t *testing.T) {
	for _, tc := range []struct{ filter, value, want string }{
		{"(uid=%s)", "alice", "(uid=alice)"},
		{"(uid=%s)", "*", `(uid=\2a)`},
		{"(uid=%s)", ")(uid=*", `(uid=\29\28uid=\2a)`},
		{"(uid=%s)", `a\b`, `(uid=a\5cb)`},
		{"(uid=%s)", "a\x00", `(uid=a\00)`},
		{ADUserFilter, "e*", `(&(objectClass=user)(|(sAMAccountName=e\2a)(userPrincipalName=e\2a)))`},
		{"(&(uid=%s)(description=100%))", "x", "(&(uid=x)(description=100%))"},
	} {
		if got := fill(tc.filter, tc.value); got != tc.want {
			t.Errorf("fill(%q, %q) = %q, want %q", tc.filter, tc.value, got, tc.want)
		}
	}
}

// TestNewRefusesBadConfig: each mistake is named at start.
func TestNewRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := Config{URL: "ldap://dc.example.com", UserBase: "ou=people,dc=example,dc=com"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"http URL", func(c *Config) { c.URL = "http://dc.example.com" }, "neither ldap:// (with StartTLS) nor ldaps://"},
		{"no host", func(c *Config) { c.URL = "ldap://" }, "is not ldap://host"},
		{"URL with a DN", func(c *Config) { c.URL = "ldap://dc.example.com/dc=example,dc=com" }, "more than a scheme, host and port"},
		{"insecure ldaps", func(c *Config) { c.URL, c.InsecureNoStartTLS = "ldaps://dc.example.com", true }, "only to an ldap:// URL"},
		{"CA file in clear text", func(c *Config) { c.InsecureNoStartTLS, c.CAFile = true, notPEM }, "clear text"},
		{"CA file missing", func(c *Config) { c.CAFile = filepath.Join(dir, "missing.pem") }, "CA file"},
		{"CA file not PEM", func(c *Config) { c.CAFile = notPEM }, "holds no PEM certificate"},
		{"no user base", func(c *Config) { c.UserBase = " " }, "user base DN is required"},
		{"user filter without %s", func(c *Config) { c.UserFilter = "(uid=alice)" }, "no %s for the username"},
		{"user filter unbalanced", func(c *Config) { c.UserFilter = "(uid=%s" }, "the user filter"},
		{"group filter without %s", func(c *Config) { c.GroupBase, c.GroupFilter = "ou=groups", "(cn=x)" }, "no %s for the user's DN"},
		{"disabled filter bad", func(c *Config) { c.DisabledFilter = "locked" }, "the disabled filter"},
		{"bind DN without password", func(c *Config) { c.BindDN = "cn=search" }, "go together"},
		{"unknown preset", func(c *Config) { c.Preset = "novell" }, `unknown preset "novell"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(good); err != nil {
		t.Errorf("New(%+v) = %v", good, err)
	}
}
