package server_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"golang.org/x/oauth2"
)

// send makes one request with the given Authorization header values, in
// order, and returns the answer and its body.
func (f *fixture) send(t *testing.T, method, path, ctype, body string, auths ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header["Authorization"] = auths
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestTwoAuthorizationHeadersAreRefused: a request with two
// Authorization headers is refused before anything reads either, on the
// management API (a problem with RFC 6750's invalid_request) and at the
// OAuth endpoints (RFC 6749's invalid_request), whichever header holds
// the good credential; it changes nothing. Proxies and servers may pick
// different ones of two, so tokend picks none, as tokenauth and
// /v1/authz already did.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	f := newFixture(t)
	admin, junk := "Bearer "+f.AdminKey, "Bearer tokend_junk"
	c := f.oauthClient(t, nil)
	basic := "Basic " + basicAuth(c.Client.ID, c.Secret)
	body := `{"name":"Second","audience":"https://second.example","scopes":["a"],"key_prefix":"sec"}`
	for _, auths := range [][]string{{admin, junk}, {junk, admin}, {admin, admin}} {
		resp, b := f.send(t, "POST", "/v1/apis", "application/json", body, auths...)
		var p api.Problem
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != http.StatusBadRequest || p.Code() != api.ErrBadRequest ||
			resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_request"`) {
			t.Errorf("POST /v1/apis with %d Authorization headers: %d %s %q, want 400 bad-request with error=\"invalid_request\"",
				len(auths), resp.StatusCode, b, resp.Header.Get("WWW-Authenticate"))
		}
	}
	if l, err := f.Client.ListAPIs(t.Context()); err != nil || len(l.APIs) != 2 {
		t.Errorf("after the refused requests: %d APIs (%v), want the built-in one and Payments", len(l.APIs), err)
	}
	for _, tt := range []struct {
		path  string
		auths []string
	}{
		{"/oauth2/introspect", []string{admin, basic}},
		{"/oauth2/introspect", []string{basic, admin}},
		{"/oauth2/token", []string{basic, basic}},
		{"/oauth2/revoke", []string{basic, "Basic eDp5"}},
	} {
		resp, b := f.send(t, "POST", tt.path, "application/x-www-form-urlencoded",
			"grant_type=client_credentials&token=x", tt.auths...)
		checkOAuthError(t, resp.StatusCode, b, http.StatusBadRequest, "invalid_request")
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
			t.Errorf("%s: Cache-Control %q, Pragma %q, want no-store and no-cache", tt.path,
				resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
		}
	}
}

// TestTokenInURLAtOAuthEndpoints: a credential in the URL of an OAuth
// endpoint is refused in RFC 6749 §5.2's format, which OAuth client
// libraries read (golang.org/x/oauth2 finds the error code in it), not
// as a problem document; the management API keeps its token-in-url
// problem.
func TestTokenInURLAtOAuthEndpoints(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	cc := f.ccConfig(c)
	cc.TokenURL += "?client_secret=" + url.QueryEscape(c.Secret)
	_, err := cc.Token(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_request" || re.Response.StatusCode != http.StatusBadRequest {
		t.Errorf("client_credentials with the secret in the token URL: %v, want 400 invalid_request", err)
	}
	basic := "Basic " + basicAuth(c.Client.ID, c.Secret)
	for _, tt := range []struct{ method, path string }{
		{"POST", "/oauth2/introspect?token=" + f.AdminKey},
		{"POST", "/oauth2/revoke?refresh_token=abc"},
		{"GET", "/oauth2/userinfo?access_token=abc"},
		{"POST", "/oauth2/register/" + c.Client.ID + "/" + c.Secret},
	} {
		resp, b := f.send(t, tt.method, tt.path, "application/x-www-form-urlencoded", "token=x", basic)
		checkOAuthError(t, resp.StatusCode, b, http.StatusBadRequest, "invalid_request")
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %.30s…: content type %q, want application/json", tt.method, tt.path, ct)
		}
	}
	resp, prob := f.raw(t, "GET", "/v1/keys?access_token=abc", "", "", "")
	if resp.StatusCode != http.StatusBadRequest || prob.Code() != api.ErrTokenInURL {
		t.Errorf("GET /v1/keys?access_token=…: %d %s, want 400 %s", resp.StatusCode, prob.Code(), api.ErrTokenInURL)
	}
}

// basicAuth is the value of HTTP Basic client authentication (RFC 6749
// §2.3.1: id and secret form-encoded first).
func basicAuth(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

// TestMeUnauthorizedHasChallenge: every 401 of /v1/me carries a
// WWW-Authenticate challenge (RFC 9110 §15.5.2), the one for an ended
// or unknown session cookie too, which had none.
func TestMeUnauthorizedHasChallenge(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ name, cookie string }{
		{"no credential", ""},
		{"an unknown session cookie", "tkss_nope"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.URL+"/v1/me", nil)
		if c.cookie != "" {
			req.AddCookie(&http.Cookie{Name: "tokend_session", Value: c.cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(ch, `Bearer realm="tokend"`) {
			t.Errorf("GET /v1/me with %s: %d, WWW-Authenticate %q, want 401 with a Bearer challenge", c.name, resp.StatusCode, ch)
		}
	}
}
