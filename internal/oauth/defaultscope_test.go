package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestNeitherScopeNorResource: an authorization request with neither
// scope nor resource, as conformance suites send it, succeeds with the
// client's default scope, openid, whose access token is good for
// userinfo; and every token answer, success or error, carries
// Cache-Control: no-store (RFC 6749 §5.1).
func TestNeitherScopeNorResource(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "", "authorization_code")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "https://app.example/cb"}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))
	if strings.Contains(authURL, "scope=") || strings.Contains(authURL, "resource=") {
		t.Fatalf("the request has a scope or resource: %s", authURL)
	}
	code := e.authorize(t, authURL, alice).Query().Get("code")
	exchange := func(code string) (http.Header, answer) {
		t.Helper()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id},
			"redirect_uri": {cfg.RedirectURL}, "code_verifier": {verifier}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var h http.Header
		a := do(t, req, func(res *http.Response) { h = res.Header })
		return h, a
	}
	res, a := exchange(code)
	if a.Status != 200 || a.Scope != "openid" || a.AccessToken == "" || a.Raw["id_token"] == nil {
		t.Fatalf("exchange: %d %q scope %q, want 200 with scope openid and an ID token", a.Status, a.Error, a.Scope)
	}
	if cc := res.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token answer Cache-Control %q, want no-store", cc)
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: a.AccessToken}))
	if err != nil || ui.Subject != alice {
		t.Errorf("userinfo with the default scope: %+v, %v", ui, err)
	}
	res, a = exchange(code)
	if a.Status != 400 || a.Error != "invalid_grant" || res.Get("Cache-Control") != "no-store" {
		t.Errorf("replayed code: %d %s Cache-Control %q, want 400 invalid_grant with no-store", a.Status, a.Error, res.Get("Cache-Control"))
	}
}
