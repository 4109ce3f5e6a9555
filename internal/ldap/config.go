package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// PresetAD is the Preset value for Microsoft Active Directory.
const PresetAD = "ad"

// Defaults of the zero Config, for OpenLDAP and other RFC 4519 directories.
const (
	DefaultUserFilter     = "(uid=%s)"
	DefaultGroupFilter    = "(member=%s)"
	DefaultDisabledFilter = "(pwdAccountLockedTime=*)"
	DefaultDialTimeout    = 5 * time.Second
	DefaultTimeout        = 10 * time.Second
)

// ADUserFilter is the user filter of the Active Directory preset: the
// sign-in name is either the sAMAccountName ("alice") or the
// userPrincipalName ("alice@example.com").
const ADUserFilter = "(&(objectClass=user)(|(sAMAccountName=%s)(userPrincipalName=%s)))"

// adAccountDisable is the ACCOUNTDISABLE bit of Active Directory's
// userAccountControl.
const adAccountDisable = 0x2

// Config says how to reach the directory and where people are in it. The
// zero value of every optional field means the default named beside it;
// Preset "ad" changes the defaults to Active Directory's.
type Config struct {
	// URL is ldap://host[:389] (upgraded with StartTLS before anything
	// is sent) or ldaps://host[:636]. Nothing may follow the host.
	URL string
	// InsecureNoStartTLS lets an ldap:// URL run in clear text: the
	// search account's and every user's password cross the network
	// readable. For tests and loopback directories only.
	InsecureNoStartTLS bool
	// CAFile is a PEM file of the certificate authorities that sign the
	// directory's certificate (default: the system's).
	CAFile string

	// BindDN and BindPassword are the search account's. Both empty
	// searches anonymously. cmd/tokend reads the password from a file.
	BindDN, BindPassword string

	// Preset "ad" sets Active Directory's defaults: ADUserFilter,
	// sAMAccountName as the username, groups from memberOf, and
	// disabled accounts by userAccountControl's ACCOUNTDISABLE bit.
	Preset string

	// UserBase is the DN searched (whole subtree) for people. Required.
	UserBase string
	// UserFilter finds one person; every %s becomes the typed username,
	// escaped per RFC 4515 (default DefaultUserFilter).
	UserFilter string
	// DisabledFilter, when the user's entry matches it, marks the
	// account disabled (default DefaultDisabledFilter; "none" turns the
	// check off). Active Directory uses userAccountControl instead.
	DisabledFilter string

	// GroupBase is the DN searched for the user's groups with
	// GroupFilter. Empty: the groups are the user entry's memberOf
	// values (Active Directory, or OpenLDAP's memberof overlay).
	GroupBase string
	// GroupFilter finds the user's groups; %s becomes the user's DN,
	// escaped (default DefaultGroupFilter).
	GroupFilter string

	// Attribute names (defaults: uid or sAMAccountName, mail,
	// displayName falling back to cn, and cn for a group's name).
	UsernameAttribute, EmailAttribute, NameAttribute, GroupNameAttribute string

	// DialTimeout bounds connecting, and Timeout a whole operation
	// (connect, TLS, binds and searches) (defaults DefaultDialTimeout,
	// DefaultTimeout).
	DialTimeout, Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// settings is a checked Config with its defaults filled in.
type settings struct {
	Config
	network, addr string
	tls           *tls.Config // nil: clear text
	startTLS      bool
	ad            bool
	attrs         []string // requested of a user entry
}

// check validates c and fills in the defaults.
func (c Config) check() (*settings, error) {
	s := &settings{Config: c}
	switch c.Preset {
	case "":
	case PresetAD:
		s.ad = true
	default:
		return nil, fmt.Errorf("ldap: unknown preset %q (the one preset is %q)", c.Preset, PresetAD)
	}
	s.defaults()
	if err := s.parseURL(); err != nil {
		return nil, err
	}
	if err := s.loadCA(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s.UserBase) == "" {
		return nil, errors.New("ldap: the user base DN is required")
	}
	if !strings.Contains(s.UserFilter, "%s") {
		return nil, fmt.Errorf("ldap: the user filter %q has no %%s for the username", s.UserFilter)
	}
	if s.GroupBase != "" && !strings.Contains(s.GroupFilter, "%s") {
		return nil, fmt.Errorf("ldap: the group filter %q has no %%s for the user's DN", s.GroupFilter)
	}
	if (s.BindDN == "") != (s.BindPassword == "") {
		return nil, errors.New("ldap: the bind DN and the bind password go together")
	}
	if err := checkFilters(s); err != nil {
		return nil, err
	}
	s.attrs = compact(s.UsernameAttribute, s.EmailAttribute, s.NameAttribute, "cn", memberOfIf(s))
	if s.ad {
		s.attrs = append(s.attrs, "userAccountControl", "accountExpires")
	}
	return s, nil
}

func (s *settings) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	if s.ad {
		def(&s.UserFilter, ADUserFilter)
		def(&s.UsernameAttribute, "sAMAccountName")
		def(&s.DisabledFilter, "none")
	}
	def(&s.UserFilter, DefaultUserFilter)
	def(&s.UsernameAttribute, "uid")
	def(&s.DisabledFilter, DefaultDisabledFilter)
	def(&s.GroupFilter, DefaultGroupFilter)
	def(&s.EmailAttribute, "mail")
	def(&s.NameAttribute, "displayName")
	def(&s.GroupNameAttribute, "cn")
	if s.DisabledFilter == "none" {
		s.DisabledFilter = ""
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = DefaultDialTimeout
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

func (s *settings) parseURL() error {
	u, err := url.Parse(s.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("ldap: the URL %q is not ldap://host[:port] or ldaps://host[:port]", s.URL)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("ldap: the URL %q has more than a scheme, host and port", s.URL)
	}
	port := map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	if port == "" {
		return fmt.Errorf("ldap: the URL %q is neither ldap:// (with StartTLS) nor ldaps://", s.URL)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	s.network, s.addr = "tcp", net.JoinHostPort(u.Hostname(), port)
	if s.InsecureNoStartTLS && u.Scheme != "ldap" {
		return errors.New("ldap: InsecureNoStartTLS applies only to an ldap:// URL")
	}
	if !s.InsecureNoStartTLS {
		s.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		s.startTLS = u.Scheme == "ldap"
	}
	return nil
}

func (s *settings) loadCA() error {
	if s.CAFile == "" {
		return nil
	}
	if s.tls == nil {
		return errors.New("ldap: a CA file is given but the connection is in clear text")
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return fmt.Errorf("ldap: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("ldap: CA file %s holds no PEM certificate", s.CAFile)
	}
	s.tls.RootCAs = pool
	return nil
}

func memberOfIf(s *settings) string {
	if s.GroupBase == "" {
		return "memberOf"
	}
	return ""
}

func compact(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// checkFilters compiles every filter, with a sample value in place of
// %s, so that a typo fails at start rather than at the first sign-in.
func checkFilters(s *settings) error {
	for name, f := range map[string]string{"user": s.UserFilter, "group": s.GroupFilter, "disabled": s.DisabledFilter} {
		if f == "" {
			continue
		}
		if _, err := goldap.CompileFilter(fill(f, "x")); err != nil {
			return fmt.Errorf("ldap: the %s filter %q: %v", name, f, err)
		}
	}
	return nil
}
