package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tokend/tokend/internal/user"
)

// maxUsername bounds the typed username: longer is never a sign-in name.
const maxUsername = 256

// Directory is an LDAP or Active Directory server seen as a
// user.Directory. It keeps no connection open between calls and is safe
// for concurrent use.
type Directory struct {
	s *settings
}

var _ user.Directory = (*Directory)(nil)

// errNoUser is a username that matches no entry, or several.
var errNoUser = errors.New("no single entry matches the user filter")

// New checks c and returns its Directory. It does not connect: Ping does.
func New(c Config) (*Directory, error) {
	s, err := c.check()
	if err != nil {
		return nil, err
	}
	return &Directory{s: s}, nil
}

// Ping connects and binds as the search account, to tell at start that
// the directory is reachable and the account's password right.
func (d *Directory) Ping(ctx context.Context) error {
	return d.session(ctx, func(c *goldap.Conn) error { return d.bindService(c) })
}

// Authenticate implements user.Directory: it finds the one entry of
// username, binds as it with password, and returns the person with their
// groups. See the package documentation for the steps and the errors.
func (d *Directory) Authenticate(ctx context.Context, username, password string) (user.Entry, error) {
	if password == "" || !plausible(username) {
		return user.Entry{}, user.ErrInvalidCredentials
	}
	var r user.Entry
	err := d.session(ctx, func(c *goldap.Conn) error {
		e, err := d.findUser(c, username)
		if errors.Is(err, errNoUser) {
			return fmt.Errorf("%w: %w", user.ErrInvalidCredentials, err)
		}
		if err != nil {
			return err
		}
		if err := bindUser(c, e.DN, password); err != nil {
			return err
		}
		if err := d.bindService(c); err != nil {
			return err
		}
		r, err = d.describe(c, e)
		return err
	})
	if err == nil && r.Disabled {
		err = user.ErrDisabled
	}
	return r, err
}

// Lookup implements user.Directory: what the directory says of username
// now, without a password. A disabled person comes back with Disabled
// set and no error; one the directory does not know (or knows twice) is
// user.ErrNotFound.
func (d *Directory) Lookup(ctx context.Context, username string) (user.Entry, error) {
	if !plausible(username) {
		return user.Entry{}, user.ErrNotFound
	}
	var r user.Entry
	err := d.session(ctx, func(c *goldap.Conn) error {
		e, err := d.findUser(c, username)
		if errors.Is(err, errNoUser) {
			return fmt.Errorf("%w: %w", user.ErrNotFound, err)
		}
		if err != nil {
			return err
		}
		r, err = d.describe(c, e)
		return err
	})
	return r, err
}

// plausible reports whether username could be a sign-in name at all.
func plausible(username string) bool {
	return username != "" && len(username) <= maxUsername && utf8.ValidString(username)
}

// session runs fn on a fresh, bound-to-nothing connection, which it
// closes after. The whole session, connecting included, ends at
// Config.Timeout or when ctx ends, whichever comes first.
func (d *Directory) session(ctx context.Context, fn func(*goldap.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, d.s.Timeout)
	defer cancel()
	nc, err := d.dial(ctx)
	if err != nil {
		return unavailable(err)
	}
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c := goldap.NewConn(nc, d.s.tls != nil && !d.s.startTLS)
	c.SetTimeout(d.s.Timeout)
	c.Start()
	defer c.Close()
	if d.s.startTLS {
		if err := c.StartTLS(d.s.tls); err != nil {
			return unavailable(fmt.Errorf("StartTLS: %w", err))
		}
	}
	if err := fn(c); err != nil {
		return unavailable(err)
	}
	return nil
}

// dial connects, with TLS from the start for ldaps://.
func (d *Directory) dial(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, d.s.DialTimeout)
	defer cancel()
	var nd net.Dialer
	nc, err := nd.DialContext(dctx, d.s.network, d.s.addr)
	if err != nil || d.s.tls == nil || d.s.startTLS {
		return nc, err
	}
	tc := tls.Client(nc, d.s.tls)
	if err := tc.HandshakeContext(dctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return tc, nil
}

// unavailable wraps err in ErrUnavailable unless it already carries one
// of the package's sentinels.
func unavailable(err error) error {
	for _, known := range []error{user.ErrInvalidCredentials, user.ErrNotFound, user.ErrUnavailable, user.ErrDisabled} {
		if errors.Is(err, known) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", user.ErrUnavailable, err)
}

func (d *Directory) bindService(c *goldap.Conn) error {
	if d.s.BindDN == "" {
		return nil
	}
	if err := c.Bind(d.s.BindDN, d.s.BindPassword); err != nil {
		return fmt.Errorf("bind as the search account: %w", err)
	}
	return nil
}

// bindUser binds as dn: a wrong password is ErrInvalidCredentials.
func bindUser(c *goldap.Conn, dn, password string) error {
	err := c.Bind(dn, password)
	if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		return fmt.Errorf("%w: wrong password", user.ErrInvalidCredentials)
	}
	if err != nil {
		return fmt.Errorf("bind as the user: %w", err)
	}
	return nil
}

// findUser binds as the search account and finds the one entry of
// username; none or several are errNoUser.
func (d *Directory) findUser(c *goldap.Conn, username string) (*goldap.Entry, error) {
	if err := d.bindService(c); err != nil {
		return nil, err
	}
	filter := fill(d.s.UserFilter, username)
	res, err := c.Search(goldap.NewSearchRequest(d.s.UserBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, d.timeLimit(), false, filter, d.s.attrs, nil))
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded):
		return nil, fmt.Errorf("%w: several match", errNoUser)
	case err != nil:
		return nil, fmt.Errorf("search the user: %w", err)
	case len(res.Entries) != 1:
		return nil, fmt.Errorf("%w: %d match", errNoUser, len(res.Entries))
	}
	return res.Entries[0], nil
}

// fill puts value, escaped per RFC 4515, in place of every %s of filter.
func fill(filter, value string) string {
	return strings.ReplaceAll(filter, "%s", goldap.EscapeFilter(value))
}

// timeLimit is the server-side time limit of a search, in whole seconds.
func (d *Directory) timeLimit() int {
	return max(1, int(d.s.Timeout/time.Second))
}

// describe reads the person of entry e: names, state and groups.
func (d *Directory) describe(c *goldap.Conn, e *goldap.Entry) (user.Entry, error) {
	r := user.Entry{Username: e.GetEqualFoldAttributeValue(d.s.UsernameAttribute),
		Email: e.GetEqualFoldAttributeValue(d.s.EmailAttribute), DisplayName: e.GetEqualFoldAttributeValue(d.s.NameAttribute)}
	if r.DisplayName == "" {
		r.DisplayName = e.GetEqualFoldAttributeValue("cn")
	}
	if r.Username == "" {
		return r, fmt.Errorf("the entry %s has no %s attribute", e.DN, d.s.UsernameAttribute)
	}
	var err error
	if r.Disabled, err = d.disabled(c, e); err != nil {
		return r, err
	}
	r.Groups, err = d.groups(c, e)
	return r, err
}

// disabled reports whether the account of e may not sign in.
func (d *Directory) disabled(c *goldap.Conn, e *goldap.Entry) (bool, error) {
	if d.s.ad {
		return adDisabled(e, d.s.Now()), nil
	}
	if d.s.DisabledFilter == "" {
		return false, nil
	}
	res, err := c.Search(goldap.NewSearchRequest(e.DN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
		1, d.timeLimit(), false, d.s.DisabledFilter, []string{"1.1"}, nil))
	if err != nil {
		return false, fmt.Errorf("check whether the account is disabled: %w", err)
	}
	return len(res.Entries) > 0, nil
}

// adDisabled reads Active Directory's userAccountControl (the
// ACCOUNTDISABLE bit) and accountExpires (100 ns intervals since 1601,
// 0 or the largest int64 for never). A value that does not parse counts
// as disabled: the directory's word is not clear.
func adDisabled(e *goldap.Entry, now time.Time) bool {
	uac, err := strconv.ParseInt(e.GetEqualFoldAttributeValue("userAccountControl"), 10, 64)
	if err != nil || uac&adAccountDisable != 0 {
		return true
	}
	v := e.GetEqualFoldAttributeValue("accountExpires")
	if v == "" {
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return true
	}
	if n == 0 || n == 1<<63-1 {
		return false
	}
	const fromFileTime = 11644473600 // seconds from 1601 to 1970
	expires := time.Unix(n/10_000_000-fromFileTime, n%10_000_000*100)
	return !now.Before(expires)
}

// groups returns the names of e's groups, sorted.
func (d *Directory) groups(c *goldap.Conn, e *goldap.Entry) ([]string, error) {
	var names []string
	if d.s.GroupBase == "" {
		for _, dn := range e.GetEqualFoldAttributeValues("memberOf") {
			if name := firstRDNValue(dn); name != "" {
				names = append(names, name)
			}
		}
	} else {
		res, err := c.SearchWithPaging(goldap.NewSearchRequest(d.s.GroupBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			0, d.timeLimit(), false, fill(d.s.GroupFilter, e.DN), []string{d.s.GroupNameAttribute}, nil), 500)
		if err != nil {
			return nil, fmt.Errorf("search the user's groups: %w", err)
		}
		for _, g := range res.Entries {
			if name := g.GetEqualFoldAttributeValue(d.s.GroupNameAttribute); name != "" {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// firstRDNValue is "admins" of "cn=admins,ou=groups,dc=example,dc=com".
func firstRDNValue(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return ""
	}
	return parsed.RDNs[0].Attributes[0].Value
}
