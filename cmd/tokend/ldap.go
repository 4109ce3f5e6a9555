package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/ldap"
)

// ldapConfig is the LDAP / Active Directory settings of "tokend serve".
type ldapConfig struct {
	url, bindDN, bindPasswordFile  string
	userBase, userFilter           string
	groupBase, groupFilter         string
	disabledFilter, caFile, preset string
	insecureNoStartTLS             bool
	timeout                        time.Duration
}

func (c *ldapConfig) register(fs *flag.FlagSet) {
	str(fs, &c.url, "ldap-url", "", "ldap://host (StartTLS) or ldaps://host of an LDAP or Active Directory server for people's sign-in (default none)")
	str(fs, &c.bindDN, "ldap-bind-dn", "", "DN of the account that searches the directory (default: anonymous search)")
	str(fs, &c.bindPasswordFile, "ldap-bind-password-file", "", "file holding the --ldap-bind-dn account's password")
	str(fs, &c.userBase, "ldap-user-base", "", "DN under which people are searched (required with --ldap-url)")
	str(fs, &c.userFilter, "ldap-user-filter", "", "filter finding one person, %s standing for the escaped username (default (uid=%s); the ad preset's matches sAMAccountName or userPrincipalName)")
	str(fs, &c.groupBase, "ldap-group-base", "", "DN under which a person's groups are searched (default none: groups are the person's memberOf values)")
	str(fs, &c.groupFilter, "ldap-group-filter", "", "filter finding a person's groups under --ldap-group-base, %s standing for the person's DN (default (member=%s))")
	str(fs, &c.disabledFilter, "ldap-disabled-filter", "", "a person's entry matching this filter may not sign in (default (pwdAccountLockedTime=*); none: no check; the ad preset reads userAccountControl)")
	str(fs, &c.caFile, "ldap-ca-file", "", "PEM file of the CAs that sign the directory's certificate (default: the system's)")
	str(fs, &c.preset, "ldap-preset", "", "ad: Active Directory's filters and attributes")
	fs.BoolVar(&c.insecureNoStartTLS, "ldap-insecure-no-starttls", false, "send passwords to an ldap:// directory in clear text, without StartTLS: for tests only ($"+envName("ldap-insecure-no-starttls")+")")
	dur(fs, &c.timeout, "ldap-timeout", ldap.DefaultTimeout, "longest a sign-in may wait for the directory")
}

// check validates the LDAP flags before anything starts, naming the flag
// at fault; the directory is not contacted.
func (c *ldapConfig) check() error {
	_, err := c.config()
	return err
}

// config turns the flags into an ldap.Config, reading the bind password.
func (c *ldapConfig) config() (ldap.Config, error) {
	if c.url == "" {
		if set := c.setWithoutURL(); set != "" {
			return ldap.Config{}, fmt.Errorf("%w: --%s needs --ldap-url", errUsage, set)
		}
		return ldap.Config{}, nil
	}
	if c.userBase == "" {
		return ldap.Config{}, fmt.Errorf("%w: --ldap-url needs --ldap-user-base, the DN under which people are searched", errUsage)
	}
	if (c.bindDN == "") != (c.bindPasswordFile == "") {
		return ldap.Config{}, fmt.Errorf("%w: --ldap-bind-dn and --ldap-bind-password-file go together", errUsage)
	}
	if c.groupFilter != "" && c.groupBase == "" {
		return ldap.Config{}, fmt.Errorf("%w: --ldap-group-filter needs --ldap-group-base (without it, groups come from memberOf)", errUsage)
	}
	password, err := c.bindPassword()
	if err != nil {
		return ldap.Config{}, err
	}
	lc := ldap.Config{URL: c.url, InsecureNoStartTLS: c.insecureNoStartTLS, CAFile: c.caFile, BindDN: c.bindDN,
		BindPassword: password, Preset: c.preset, UserBase: c.userBase, UserFilter: c.userFilter,
		DisabledFilter: c.disabledFilter, GroupBase: c.groupBase, GroupFilter: c.groupFilter, Timeout: c.timeout}
	if _, err := ldap.New(lc); err != nil {
		return ldap.Config{}, fmt.Errorf("%w: %s (see the --ldap-* flags)", errUsage, strings.TrimPrefix(err.Error(), "ldap: "))
	}
	return lc, nil
}

// setWithoutURL names an LDAP flag given without --ldap-url.
func (c *ldapConfig) setWithoutURL() string {
	for _, f := range []struct{ name, v string }{{"ldap-bind-dn", c.bindDN}, {"ldap-bind-password-file", c.bindPasswordFile},
		{"ldap-user-base", c.userBase}, {"ldap-user-filter", c.userFilter}, {"ldap-group-base", c.groupBase},
		{"ldap-group-filter", c.groupFilter}, {"ldap-disabled-filter", c.disabledFilter}, {"ldap-ca-file", c.caFile},
		{"ldap-preset", c.preset}} {
		if f.v != "" {
			return f.name
		}
	}
	if c.insecureNoStartTLS {
		return "ldap-insecure-no-starttls"
	}
	return ""
}

// bindPassword reads --ldap-bind-password-file: its first line, so that
// a trailing newline is not part of the password.
func (c *ldapConfig) bindPassword() (string, error) {
	if c.bindPasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(c.bindPasswordFile)
	if err != nil {
		return "", fmt.Errorf("%w: --ldap-bind-password-file: %w", errUsage, err)
	}
	password, _, _ := strings.Cut(string(b), "\n")
	password = strings.TrimSuffix(password, "\r")
	if password == "" {
		return "", fmt.Errorf("%w: --ldap-bind-password-file %s is empty", errUsage, c.bindPasswordFile)
	}
	return password, nil
}

// newDirectory builds the configured directory, or returns nil when
// --ldap-url is not set. It does not connect: pingDirectory does.
func newDirectory(c ldapConfig) (*ldap.Directory, error) {
	lc, err := c.config()
	if err != nil || lc.URL == "" {
		return nil, err
	}
	return ldap.New(lc)
}

// pingDirectory tells in the log whether the directory answers. A
// directory that does not is a warning, never a failed start: local
// users sign in without it, and directory users once it is back.
func pingDirectory(ctx context.Context, d *ldap.Directory, url string, log *slog.Logger) {
	err := d.Ping(ctx)
	switch {
	case err == nil:
		log.Info("LDAP directory reachable", "url", url)
	case errors.Is(err, context.Canceled):
	default:
		log.Warn("LDAP directory unreachable: directory users cannot sign in until it answers; local users are unaffected",
			"url", url, "err", err)
	}
}
