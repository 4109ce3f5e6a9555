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
	// regard to case.
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
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
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
