package oauth

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/valid"
)

// Application types of RFC 7591 / OpenID Connect Registration: web
// clients redirect to https only, native apps also to loopback http and
// private-use URI schemes (RFC 8252 §7).
const (
	AppWeb    = "web"
	AppNative = "native"
)

// maxRedirectURIs bounds how many redirect URIs a client may register.
const maxRedirectURIs = 20

// forbiddenSchemes can never be a redirect target: they run code or read
// local data in the browser instead of reaching the client.
var forbiddenSchemes = []string{"javascript", "data", "vbscript", "file", "about", "blob", "filesystem", "view-source"}

// checkRedirectURIs validates the redirect URIs a client registers
// under field: absolute, without fragment (RFC 6749 §3.1.2), https, or
// for native apps loopback http or a private-use scheme (RFC 8252 §7.1,
// §7.3); plain http to another host is refused for every client.
func checkRedirectURIs(field string, uris []string, appType string) error {
	if len(uris) > maxRedirectURIs {
		return valid.Errorf(field, "at most %d URIs", maxRedirectURIs)
	}
	for i, u := range uris {
		if slices.Contains(uris[:i], u) {
			return valid.Errorf(field, "%q is listed twice", u)
		}
		if err := checkRedirectURI(field, u, appType); err != nil {
			return err
		}
	}
	return nil
}

func checkRedirectURI(field, raw, appType string) error {
	if len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n\\<>\"") {
		return valid.Errorf(field, "each URI must be at most 2000 characters, without spaces, quotes or backslashes")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return valid.Errorf(field, "each URI must be absolute")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case strings.Contains(raw, "#"):
		return valid.Errorf(field, "a redirect URI must not have a fragment (RFC 6749 §3.1.2)")
	case slices.Contains(forbiddenSchemes, scheme):
		return valid.Errorf(field, "the %s: scheme cannot be a redirect URI", scheme)
	case u.User != nil:
		return valid.Errorf(field, "a redirect URI must not hold user information")
	case scheme == "https":
		if u.Host == "" {
			return valid.Errorf(field, "an https redirect URI needs a host")
		}
		return nil
	case scheme == "http":
		if !loopbackHost(u.Hostname()) {
			return valid.Errorf(field, "plain http is only for loopback redirects (127.0.0.1, [::1], localhost); use https")
		}
		return nil
	case appType == AppWeb:
		return valid.Errorf(field, "web clients redirect to https URIs; private-use schemes are for native apps")
	}
	return nil // a private-use scheme of a native app (RFC 8252 §7.1)
}

// loopbackHost reports a loopback IP literal or localhost.
func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// matchRedirect reports whether got is one of the registered URIs:
// compared exactly (RFC 9700 §4.1.3), except that a registered loopback
// IP redirect matches with any port (RFC 8252 §7.3), since native apps
// listen on a port the system picks.
func matchRedirect(registered []string, got string) bool {
	if slices.Contains(registered, got) {
		return true
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || net.ParseIP(g.Hostname()) == nil || !loopbackHost(g.Hostname()) {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || net.ParseIP(u.Hostname()) == nil {
			continue
		}
		if u.Hostname() == g.Hostname() && u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery &&
			g.Fragment == "" && g.User == nil {
			return true
		}
	}
	return false
}
