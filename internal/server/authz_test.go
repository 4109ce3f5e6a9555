package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/server"
)

// TestVerifyKeyOnlyVerifies walks the route table: a verify-only key
// (tokend:verify) gets 403 insufficient-scope on every route that needs
// tokend:admin, and is let through (neither 401 nor 403) where a verify
// key is allowed.
func TestVerifyKeyOnlyVerifies(t *testing.T) {
	f := newFixture(t)
	_, vkey, err := f.Keys.CreateAdminKey(t.Context(), adminActor, "verifier", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	admin := 0
	for pattern, scopes := range server.RouteScopes() {
		if scopes == nil {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.ReplaceAll(path, "{id}", "x")
		ctype, body := "application/json", `{}`
		if strings.HasPrefix(path, "/oauth2/") {
			ctype, body = "application/x-www-form-urlencoded", "token=x"
		}
		if strings.HasPrefix(path, "/v1/authz") {
			// The proxy's key rides in Tokend-Verify-Key: let through, the
			// answer is about the (missing) original request.
			if resp := f.authz(t, method, path, vkey, nil); resp.StatusCode != 400 {
				t.Errorf("%s with a verify key: %d, want 400 (let through, no original request)", pattern, resp.StatusCode)
			}
			continue
		}
		resp, p, raw := f.rawBody(t, method, path, ctype, body, "Bearer "+vkey)
		switch {
		case !slices.Contains(scopes, "tokend:verify"):
			admin++
			if resp.StatusCode != 403 || p.Code() != api.ErrInsufficientScope {
				t.Errorf("%s with a verify key: %d %s, want 403 insufficient-scope", pattern, resp.StatusCode, raw)
			}
		case resp.StatusCode == 401 || resp.StatusCode == 403:
			t.Errorf("%s with a verify key: %d %s, want it let through", pattern, resp.StatusCode, raw)
		}
	}
	if admin < 20 {
		t.Errorf("only %d admin routes in the route table; the walk found too few", admin)
	}
}
