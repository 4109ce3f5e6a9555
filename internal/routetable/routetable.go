// Package routetable is the route table shared by `tokend gateway` and
// forward-auth (/v1/authz): which requests need which token. A route names
// a host, a path prefix and methods, and requires a token of one API
// (audience) holding every listed scope; the gateway also sends it on to
// an upstream URL.
//
// The file is JSON (docs/protecting-an-api.md has the full format):
//
//	{"routes": [
//	  {"name": "orders-read", "host": "api.example.com", "path": "/orders",
//	   "methods": ["GET", "HEAD"], "upstream": "http://127.0.0.1:9000",
//	   "audience": "orders", "scopes": ["orders:read"]},
//	  {"path": "/", "upstream": "http://127.0.0.1:9000", "audience": "orders"}
//	]}
//
// Matching is done on the canonical path (CleanPath): percent-decoded once,
// dot segments resolved, repeated slashes collapsed; encodings that could
// be read two ways (an encoded slash, backslash or percent sign, an encoded
// unreserved character, a NUL) are refused, so a request can never reach a
// route other than the one whose rule was checked. A prefix matches at a
// segment boundary ("/api" matches "/api" and "/api/x", never "/apix"); the
// longest matching prefix wins, then a route naming the host over one that
// does not, then one naming the method over one that does not. A request
// no route matches is denied: there is no implicit default route.
package routetable

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Route is one entry of the table.
type Route struct {
	// Name labels the route in metrics and logs; it defaults to host+path.
	Name string `json:"name,omitempty"`
	// Host is the request's host (no port), case-insensitive; empty
	// matches any host.
	Host string `json:"host,omitempty"`
	// Path is the prefix, canonical and starting with "/".
	Path string `json:"path"`
	// Methods are the methods the route covers; empty covers all.
	Methods []string `json:"methods,omitempty"`
	// Upstream is where the gateway sends the request (http or https
	// URL, its path prepended); forward-auth ignores it.
	Upstream string `json:"upstream,omitempty"`
	// Audience is the API the token must belong to. Required: a route
	// without one would let a key of any API, tokend's own included, in.
	Audience string `json:"audience"`
	// Scopes must all be held by the token.
	Scopes []string `json:"scopes,omitempty"`

	upstream *url.URL
}

// UpstreamURL is the parsed Upstream, nil when there is none.
func (r *Route) UpstreamURL() *url.URL { return r.upstream }

// Table is a validated, immutable route table, safe for concurrent use.
type Table struct {
	routes []*Route
}

// Routes returns the routes in file order; they must not be modified.
func (t *Table) Routes() []*Route { return t.routes }

type file struct {
	Routes []*Route `json:"routes"`
}

// Load reads and parses the route file at path.
func Load(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses a route file. Unknown fields, a route without a path or
// audience, a non-canonical prefix, a bad upstream URL and two routes
// covering the same host, prefix and method are errors.
func Parse(b []byte) (*Table, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("route file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("route file: data after the JSON object")
	}
	return New(f.Routes)
}

// New validates routes into a Table; the routes are owned by it afterwards.
func New(routes []*Route) (*Table, error) {
	if len(routes) == 0 {
		return nil, errors.New("route file: no routes (every request would be denied)")
	}
	for i, r := range routes {
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("route %d (%s): %w", i+1, r.label(), err)
		}
		for _, o := range routes[:i] {
			if o.Host == r.Host && o.Path == r.Path && overlap(o.Methods, r.Methods) {
				return nil, fmt.Errorf("route %d (%s) covers the same host, path and method as route %s", i+1, r.label(), o.Name)
			}
		}
	}
	return &Table{routes: routes}, nil
}

func (r *Route) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Host + r.Path
}

// check validates r and normalises its host, path and methods.
func (r *Route) check() error {
	if r.Path == "" || r.Path[0] != '/' {
		return errors.New(`"path" must start with "/"`)
	}
	clean, err := ExactPath(r.Path)
	if err != nil {
		return fmt.Errorf(`"path" %q is not canonical (no dot segments, repeated slashes or percent-encoding)`, r.Path)
	}
	r.Path = clean
	if r.Audience == "" {
		return errors.New(`"audience" is required`)
	}
	r.Host = strings.ToLower(r.Host)
	if strings.ContainsAny(r.Host, ":/ ") {
		return fmt.Errorf(`"host" %q must be a bare host name, without port or scheme`, r.Host)
	}
	for i, m := range r.Methods {
		r.Methods[i] = strings.ToUpper(m)
		if m == "" || strings.ContainsAny(m, " \t/") {
			return fmt.Errorf(`"methods" has a bad method %q`, m)
		}
	}
	for _, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			return fmt.Errorf(`"scopes" has a bad scope %q`, s)
		}
	}
	if r.Upstream != "" {
		u, err := url.Parse(r.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf(`"upstream" %q must be an http or https URL without query`, r.Upstream)
		}
		r.upstream = u
	}
	if r.Name == "" {
		r.Name = r.Host + r.Path
	}
	return nil
}

// overlap reports whether two method sets leave Match no way to choose:
// both cover all methods, or both name one method. (A route naming the
// method wins over one covering all.)
func overlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	for _, m := range a {
		if slices.Contains(b, m) {
			return true
		}
	}
	return false
}

// Match returns the route of a request: host as sent (a port is ignored),
// method, and the canonical path from CleanPath or ExactPath. It returns
// nil when no route matches, which callers must deny.
func (t *Table) Match(host, method, path string) *Route {
	host = strings.ToLower(stripPort(host))
	var best *Route
	for _, r := range t.routes {
		if (r.Host != "" && r.Host != host) || (len(r.Methods) > 0 && !slices.Contains(r.Methods, method)) || !under(path, r.Path) {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	return best
}

// better reports whether r is more specific than b.
func better(r, b *Route) bool {
	if len(r.Path) != len(b.Path) {
		return len(r.Path) > len(b.Path)
	}
	if (r.Host != "") != (b.Host != "") {
		return r.Host != ""
	}
	return len(r.Methods) > 0 && len(b.Methods) == 0
}

// under reports whether path lies at or below prefix, at a segment
// boundary.
func under(path, prefix string) bool {
	if prefix == "/" {
		return true
	}
	return strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/')
}

func stripPort(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		return host[:i]
	}
	return host
}
