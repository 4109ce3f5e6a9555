package httpsig

import (
	"net/textproto"
	"net/url"
	"strings"
)

// Message is a request as RFC 9421 sees it.
type Message struct {
	// Method is the request method, as sent (upper case).
	Method string
	// TargetURI is the absolute request URI: scheme://authority/path?query.
	TargetURI string
	// Header holds the request's header fields; names are matched without
	// regard to case, so a map that holds one name twice in different
	// cases is ambiguous: refuse it first (RepeatedField). The maps of
	// net/http hold canonical names only.
	Header map[string][]string
	// HasBody reports whether the request has content, which then must be
	// covered by content-digest.
	HasBody bool
}

// field returns the values of the header field name, whatever the case of
// the map's keys.
func (m *Message) field(name string) ([]string, bool) {
	if v, ok := m.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return v, true
	}
	for k, v := range m.Header {
		if equalFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// RepeatedField returns a header field name that h holds twice, as two
// keys that differ only in case ("Signature" and "signature"), and
// whether there is one. HTTP field names are case-insensitive (RFC 9110
// §5.1): such a map holds two values of one field, and which one a
// lookup finds would be chance.
func RepeatedField(h map[string][]string) (string, bool) {
	if len(h) <= 32 {
		// Few names: compare each pair, without allocating.
		for a := range h {
			for b := range h {
				if a != b && equalFold(a, b) {
					return a, true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, len(h))
	for k := range h {
		l := lowerASCII(k)
		if _, ok := seen[l]; ok {
			return k, true
		}
		seen[l] = struct{}{}
	}
	return "", false
}

// equalFold reports whether a and b are one field name: equal but for
// the case of ASCII letters, the only letters a field name holds (RFC
// 9110 §5.1, §5.6.2).
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// target parses TargetURI once for the derived components.
type target struct {
	u   *url.URL
	raw string
}

func (m *Message) target() (target, error) {
	u, err := url.Parse(m.TargetURI)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return target{}, Errorf(ReasonMalformed, "the target URI %q is not absolute", m.TargetURI)
	}
	return target{u: u, raw: m.TargetURI}, nil
}

// authority is @authority (RFC 9421 §2.2.3): host[:port], lower case, the
// default port of the scheme removed.
func (t target) authority() string {
	h := strings.ToLower(t.u.Host)
	switch {
	case t.u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	case t.u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	}
	return h
}

// path is @path (§2.2.6): the absolute path, "/" when empty.
func (t target) path() string {
	p := t.u.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// query is @query (§2.2.7): "?" and the query, "?" alone when absent.
func (t target) query() string { return "?" + t.u.RawQuery }

// targetURI is @target-uri (§2.2.2), the URI as the message carries it.
func (t target) targetURI() string { return t.raw }

// hasQuery reports whether the target carries a query.
func (t target) hasQuery() bool { return t.u.RawQuery != "" || t.u.ForceQuery }
