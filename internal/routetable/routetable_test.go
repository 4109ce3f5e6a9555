package routetable_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/routetable"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, clean string
		exactErr  error // ExactPath's error; nil means it answers clean without the trailing slash
		err       error
	}{
		{in: "", clean: "/"},
		{in: "/", clean: "/"},
		{in: "/public", clean: "/public"},
		{in: "/public/", clean: "/public/"},
		{in: "/a%20b", clean: "/a b"},
		{in: "/admin/../public", clean: "/public", exactErr: routetable.ErrNotCanonical},
		{in: "/admin/./x", clean: "/admin/x", exactErr: routetable.ErrNotCanonical},
		{in: "//admin", clean: "/admin", exactErr: routetable.ErrNotCanonical},
		{in: "/public/../../admin", clean: "/admin", exactErr: routetable.ErrNotCanonical},
		{in: "/public/..", clean: "/", exactErr: routetable.ErrNotCanonical},
		{in: "/public%2F..%2Fadmin", err: routetable.ErrAmbiguousPath},
		{in: "/public%2f..%2fadmin", err: routetable.ErrAmbiguousPath},
		{in: "/public/%2e%2e/admin", err: routetable.ErrAmbiguousPath},
		{in: "/%61dmin", err: routetable.ErrAmbiguousPath},
		{in: "/public/%252e%252e/admin", err: routetable.ErrAmbiguousPath},
		{in: "/public%5c..%5cadmin", err: routetable.ErrAmbiguousPath},
		{in: `/public\..\admin`, err: routetable.ErrAmbiguousPath},
		{in: "/public/..;/admin", err: routetable.ErrAmbiguousPath},
		{in: "/admin%00", err: routetable.ErrAmbiguousPath},
		{in: "/admin%0a", err: routetable.ErrAmbiguousPath},
		{in: "/admin%", err: routetable.ErrAmbiguousPath},
		{in: "/admin%zz", err: routetable.ErrAmbiguousPath},
		{in: "admin", err: routetable.ErrAmbiguousPath},
	}
	for _, tt := range tests {
		got, err := routetable.CleanPath(tt.in)
		if !errors.Is(err, tt.err) || got != tt.clean {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.clean, tt.err)
		}
		wantExact, wantErr := strings.TrimSuffix(tt.clean, "/"), tt.err
		if wantExact == "" {
			wantExact = "/"
		}
		if tt.exactErr != nil {
			wantExact, wantErr = "", tt.exactErr
		}
		if wantErr != nil {
			wantExact = ""
		}
		if got, err := routetable.ExactPath(tt.in); !errors.Is(err, wantErr) || got != wantExact {
			t.Errorf("ExactPath(%q) = %q, %v; want %q, %v", tt.in, got, err, wantExact, wantErr)
		}
	}
}

const file = `{"routes": [
  {"name": "all", "path": "/", "upstream": "http://127.0.0.1:1", "audience": "a"},
  {"name": "public", "path": "/public", "audience": "a"},
  {"name": "admin", "path": "/admin/", "audience": "a", "scopes": ["admin"]},
  {"name": "admin-read", "path": "/admin", "methods": ["get"], "audience": "a", "scopes": ["read"]},
  {"name": "host-admin", "host": "API.example.com", "path": "/admin", "audience": "b"},
  {"name": "deep", "path": "/admin/users", "audience": "a"}
]}`

func TestMatchMostSpecificWins(t *testing.T) {
	tab, err := routetable.Parse([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ host, method, path, want string }{
		{"x", "GET", "/", "all"},
		{"x", "GET", "/publicity", "all"},
		{"x", "GET", "/public", "public"},
		{"x", "GET", "/public/a/b", "public"},
		{"x", "POST", "/admin/x", "admin"},
		{"x", "GET", "/admin/x", "admin-read"},
		{"api.example.com:8443", "GET", "/admin/x", "host-admin"},
		{"API.EXAMPLE.COM", "POST", "/admin", "host-admin"},
		{"api.example.com", "GET", "/admin/users/1", "deep"},
	}
	for _, tt := range tests {
		r := tab.Match(tt.host, tt.method, tt.path)
		if r == nil || r.Name != tt.want {
			t.Errorf("Match(%s %s %s) = %v, want %s", tt.host, tt.method, tt.path, r, tt.want)
		}
	}
}

func TestMatchUnmatchedIsNil(t *testing.T) {
	tab, err := routetable.Parse([]byte(`{"routes": [{"path": "/api", "methods": ["GET"], "audience": "a"}, {"host": "h", "path": "/", "audience": "a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range [][3]string{{"x", "GET", "/"}, {"x", "POST", "/api"}, {"x", "GET", "/apix"}} {
		if r := tab.Match(req[0], req[1], req[2]); r != nil {
			t.Errorf("Match(%v) = %s, want nil (default deny)", req, r.Name)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := map[string]string{
		"not json":          `{`,
		"unknown field":     `{"routes": [{"path": "/", "audience": "a", "scope": ["x"]}]}`,
		"no routes":         `{"routes": []}`,
		"no audience":       `{"routes": [{"path": "/"}]}`,
		"relative path":     `{"routes": [{"path": "api", "audience": "a"}]}`,
		"dot path":          `{"routes": [{"path": "/a/../b", "audience": "a"}]}`,
		"encoded path":      `{"routes": [{"path": "/a%2Fb", "audience": "a"}]}`,
		"bad upstream":      `{"routes": [{"path": "/", "audience": "a", "upstream": "ftp://x"}]}`,
		"upstream query":    `{"routes": [{"path": "/", "audience": "a", "upstream": "http://x/?a=b"}]}`,
		"host with port":    `{"routes": [{"host": "x:80", "path": "/", "audience": "a"}]}`,
		"duplicate":         `{"routes": [{"path": "/a", "audience": "a"}, {"path": "/a/", "audience": "b"}]}`,
		"duplicate method":  `{"routes": [{"path": "/a", "methods": ["GET", "PUT"], "audience": "a"}, {"path": "/a/", "methods": ["put"], "audience": "b"}]}`,
		"scope with quote":  `{"routes": [{"path": "/", "audience": "a", "scopes": ["a\""]}]}`,
		"trailing garbage":  `{"routes": [{"path": "/", "audience": "a"}]} {}`,
		"method with space": `{"routes": [{"path": "/", "audience": "a", "methods": ["GE T"]}]}`,
	}
	for name, in := range tests {
		if _, err := routetable.Parse([]byte(in)); err == nil {
			t.Errorf("%s: Parse(%s) succeeded, want an error", name, in)
		}
	}
}
