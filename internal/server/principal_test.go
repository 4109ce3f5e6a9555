package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/server"
)

// TestKeyRoutesPerPrincipal walks every route of the management API
// (every /v1 route the route table gives key scopes, but forward-auth,
// whose key rides in its own header) with each kind of caller, and pins
// RFC 6750 §3.1: 401 only when no credential authenticates (none, an
// unknown key, another API's token), with a bare challenge or
// error="invalid_token"; 403 insufficient-scope with
// error="insufficient_scope" and the scope the route needs when one does
// but may not call the route: a verify key on an admin route, and every
// credential of a person (their browser session, a personal access
// token of the built-in API with or without tokend:self, the access
// token of a CLI sign-in), which call /v1/me only. An admin key passes.
func TestKeyRoutesPerPrincipal(t *testing.T) {
	f := newPATFixture(t)
	vkey := f.verifyKey(t)
	self := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	unscoped := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{}})
	other := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	session := f.signIn(t, "alice").Token
	cli := f.cliSignIn(t, f.alice.User.ID)

	type caller struct {
		name, bearer, cookie string
	}
	const (
		bare    = `Bearer realm="tokend"`
		invalid = `Bearer realm="tokend", error="invalid_token"`
		forbid  = "forbidden" // 403 insufficient_scope with the route's scopes
		pass    = "pass"      // neither 401 nor 403
	)
	callers := []struct {
		caller
		admin, verify string // the answer on an admin route, on a verify route
	}{
		{caller{name: "nothing"}, bare, bare},
		{caller{name: "an unknown key", bearer: "tokend_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, invalid, invalid},
		{caller{name: "another API's token", bearer: other.Secret}, invalid, invalid},
		{caller{name: "an unknown session", cookie: "tkss_nope"}, bare, bare},
		{caller{name: "an admin key", bearer: f.AdminKey}, pass, pass},
		{caller{name: "a verify key", bearer: vkey}, forbid, pass},
		{caller{name: "a session", cookie: session}, forbid, forbid},
		{caller{name: "a tokend:self token", bearer: self.Secret}, forbid, forbid},
		{caller{name: "a token of the built-in API without scopes", bearer: unscoped.Secret}, forbid, forbid},
		{caller{name: "a CLI sign-in", bearer: cli}, forbid, forbid},
	}

	var patterns []string
	scopes := server.RouteScopes()
	for p, s := range scopes {
		if _, path, _ := strings.Cut(p, " "); strings.HasPrefix(path, "/v1/") && !strings.HasPrefix(path, "/v1/authz") &&
			len(s) > 0 && !slices.Contains(s, "tokend:self") {
			patterns = append(patterns, p)
		}
	}
	sort.Strings(patterns)
	if len(patterns) < 50 {
		t.Fatalf("only %d key routes: %v", len(patterns), patterns)
	}
	ids := strings.NewReplacer("{id}", "x", "{passkey_id}", "x")
	for _, c := range callers {
		for _, p := range patterns {
			method, path, _ := strings.Cut(p, " ")
			want := c.admin
			if len(scopes[p]) > 1 {
				want = c.verify
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, f.URL+ids.Replace(path), nil)
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "tokend_session", Value: c.cookie})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var prob api.Problem
			json.Unmarshal(b, &prob)
			ch := resp.Header.Get("WWW-Authenticate")
			switch want {
			case pass:
				if resp.StatusCode == 401 || resp.StatusCode == 403 {
					t.Errorf("%s with %s: %d %s, want to pass", p, c.name, resp.StatusCode, b)
				}
			case forbid:
				scope := `scope="` + strings.Join(scopes[p], " ") + `"`
				if resp.StatusCode != 403 || prob.Code() != api.ErrInsufficientScope ||
					ch != `Bearer realm="tokend", error="insufficient_scope", `+scope ||
					resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s with %s: %d %q %s, want 403 insufficient-scope with %s", p, c.name, resp.StatusCode, ch, b, scope)
				}
			default:
				if resp.StatusCode != 401 || prob.Code() != api.ErrUnauthorized || ch != want {
					t.Errorf("%s with %s: %d %q %s, want 401 %q", p, c.name, resp.StatusCode, ch, b, want)
				}
			}
		}
	}
}
