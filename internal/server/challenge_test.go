package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// TestChallengeWithoutCredential pins RFC 6750 §3.1 on every surface of
// the server: a request that carries no credential (no Authorization
// header, or one of another scheme) gets a 401 whose challenges name no
// error code; a credential that does not authenticate gets
// error="invalid_token"; a missing scope 403 insufficient_scope. The
// bodies stay as documented: problem+json on /v1, an OAuth error on
// userinfo.
func TestChallengeWithoutCredential(t *testing.T) {
	f := newFixture(t)
	vkey := f.verifyKey(t)
	const (
		bare    = `Bearer realm="tokend"`
		invalid = `Bearer realm="tokend", error="invalid_token"`
		aud     = "/v1/authz?audience=https%3A%2F%2Fpay.example"
		badKey  = "Bearer tokend_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	)
	auth := func(v string) http.Header {
		if v == "" {
			return http.Header{}
		}
		return http.Header{"Authorization": {v}}
	}
	withKey := func(key string, h http.Header) http.Header {
		h = h.Clone()
		h.Set(api.HeaderVerifyKey, key)
		return h
	}
	tests := []struct {
		name, method, path string
		h                  http.Header
		status             int
		challenge, ctype   string
	}{
		{"v1 none", "GET", "/v1/keys", auth(""), 401, bare, "application/problem+json"},
		{"v1 basic", "GET", "/v1/keys", auth("Basic YTpi"), 401, bare, "application/problem+json"},
		{"v1 bad key", "GET", "/v1/keys", auth(badKey), 401, invalid, "application/problem+json"},
		{"v1 verify key", "GET", "/v1/keys", auth("Bearer " + vkey), 403,
			`Bearer realm="tokend", error="insufficient_scope", scope="tokend:admin"`, "application/problem+json"},
		{"me none", "GET", "/v1/me", auth(""), 401, bare, "application/problem+json"},
		{"me bad token", "GET", "/v1/me", auth(badKey), 401, invalid, "application/problem+json"},
		{"userinfo none", "GET", "/oauth2/userinfo", auth(""), 401, bare, "application/json"},
		{"userinfo post none", "POST", "/oauth2/userinfo", auth(""), 401, bare, "application/json"},
		{"userinfo basic", "GET", "/oauth2/userinfo", auth("Basic YTpi"), 401, bare, "application/json"},
		{"userinfo bad token", "GET", "/oauth2/userinfo", auth("Bearer nope"), 401, invalid, "application/json"},
		{"authz no verify key", "GET", aud, proxied("GET", "/orders", "pay_nope"), 401, bare, "application/problem+json"},
		{"authz bad verify key", "GET", aud, withKey("tokend_nope", proxied("GET", "/orders", "pay_nope")), 401, invalid,
			"application/problem+json"},
		{"authz no client token", "GET", aud, withKey(vkey, proxied("GET", "/orders", "")), 401, bare, "application/problem+json"},
		{"authz bad client token", "GET", aud, withKey(vkey, proxied("GET", "/orders", "pay_nope")), 401, invalid,
			"application/problem+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, f.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch := resp.Header.Values("WWW-Authenticate")
			if resp.StatusCode != tt.status || len(ch) == 0 || ch[0] != tt.challenge {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, ch, tt.status, tt.challenge)
			}
			if !strings.Contains(tt.challenge, "error=") {
				for _, c := range ch {
					if strings.Contains(c, "error") {
						t.Errorf("a request without a credential got a challenge naming an error: %q", c)
					}
				}
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.ctype {
				t.Errorf("content type %q, want %q", ct, tt.ctype)
			}
			var body struct{ Type, Error string }
			if err := json.Unmarshal(b, &body); err != nil || body.Type == "" && body.Error == "" {
				t.Errorf("body %s (%v)", b, err)
			}
			if tt.ctype == "application/json" && tt.status == 401 && body.Error != "invalid_token" {
				t.Errorf("userinfo body error %q, want invalid_token", body.Error)
			}
		})
	}
}

// emptyBearers are Authorization headers that name the Bearer scheme
// without a token, as they go on the wire (a Go client would trim the
// trailing spaces itself).
var emptyBearers = []string{"Bearer", "Bearer ", "Bearer    ", "bearer", "BEARER  "}

// TestEmptyBearerIsInvalidToken: "Authorization: Bearer" without a token
// is a malformed credential, not the absence of one: every surface of
// the server answers it 401 with error="invalid_token" (as tokenauth and
// the gateway do), never the bare challenge of a request without
// credentials, with its documented body: problem+json on /v1
// (forward-auth included, where it is the client's header), an OAuth
// error on /oauth2. "Authorization: DPoP" without a token is refused so
// on forward-auth and userinfo, which take that scheme.
func TestEmptyBearerIsInvalidToken(t *testing.T) {
	f := newPATFixture(t)
	vkey := f.verifyKey(t)
	aud := "/v1/authz?audience=https%3A%2F%2Fpay.example"
	proxy := []string{api.HeaderVerifyKey + ": " + vkey, "X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders"}
	surfaces := []struct {
		name, method, path string
		extra              []string
		oauth              bool
	}{
		{"admin route", "GET", "/v1/keys", nil, false},
		{"verify", "POST", "/v1/verify", []string{"Content-Type: application/json"}, false},
		{"me", "GET", "/v1/me", nil, false},
		{"me with a session", "GET", "/v1/me", []string{"Cookie: tokend_session=" + f.signIn(t, "alice").Token}, false},
		{"forward-auth", "GET", aud, proxy, false},
		{"userinfo", "GET", "/oauth2/userinfo", nil, true},
		{"introspection", "POST", "/oauth2/introspect", []string{"Content-Type: application/x-www-form-urlencoded"}, true},
	}
	for _, s := range surfaces {
		for _, h := range emptyBearers {
			resp, body := servertest.RawRequest(t, f.URL, s.method, s.path, append([]string{"Authorization: " + h}, s.extra...)...)
			ch := resp.Header.Values("WWW-Authenticate")
			if resp.StatusCode != 401 || len(ch) == 0 || ch[0] != `Bearer realm="tokend", error="invalid_token"` {
				t.Errorf("%s with %q: %d %q %s, want 401 error=\"invalid_token\"", s.name, h, resp.StatusCode, ch, body)
			}
			var b struct{ Type, Error string }
			json.Unmarshal([]byte(body), &b)
			if s.oauth && b.Error != "invalid_token" || !s.oauth && (!strings.HasSuffix(b.Type, "/unauthorized") ||
				resp.Header.Get("Content-Type") != "application/problem+json") {
				t.Errorf("%s with %q: body %s, want the documented one", s.name, h, body)
			}
		}
	}
	for _, s := range []struct {
		name, path string
		extra      []string
	}{{"forward-auth", aud, proxy}, {"userinfo", "/oauth2/userinfo", nil}} {
		for _, h := range []string{"DPoP", "DPoP   ", "dpop"} {
			resp, body := servertest.RawRequest(t, f.URL, "GET", s.path, append([]string{"Authorization: " + h, "DPoP: x.y.z"}, s.extra...)...)
			if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) == 0 || !strings.Contains(ch[0], `error="invalid_token"`) {
				t.Errorf("%s with %q: %d %q %s, want 401 error=\"invalid_token\"", s.name, h, resp.StatusCode, ch, body)
			}
		}
	}
	// A scheme of its own name only, or no header, is still no credential.
	for _, h := range []string{"Bearerx abc", "Basic", "Token abc"} {
		resp, body := servertest.RawRequest(t, f.URL, "GET", "/v1/keys", "Authorization: "+h)
		if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) != 1 || ch[0] != `Bearer realm="tokend"` {
			t.Errorf("/v1/keys with %q: %d %q %s, want 401 with a bare challenge", h, resp.StatusCode, ch, body)
		}
	}
}

// TestEmptyVerifyKeyIsInvalidToken: on forward-auth, a Tokend-Verify-Key
// header without a key (as it goes on the wire: nothing, or spaces) is a
// malformed credential, answered as "Authorization: Bearer" without a
// token is: 401 unauthorized with error="invalid_token" and a detail
// naming the header. Without the header it is still no credential, a
// bare challenge (two headers: TestTwoVerifyKeyHeadersAreRefused).
func TestEmptyVerifyKeyIsInvalidToken(t *testing.T) {
	f := newFixture(t)
	client := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}}).Secret
	aud := "/v1/authz?audience=" + url.QueryEscape(f.api.Audience)
	proxy := []string{"X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders", "Authorization: Bearer " + client}
	for _, h := range []string{api.HeaderVerifyKey + ":", api.HeaderVerifyKey + ": ", api.HeaderVerifyKey + ":    "} {
		resp, body := servertest.RawRequest(t, f.URL, "GET", aud, append([]string{h}, proxy...)...)
		var p api.Problem
		json.Unmarshal([]byte(body), &p)
		ch := resp.Header.Values("WWW-Authenticate")
		if resp.StatusCode != 401 || len(ch) == 0 || ch[0] != `Bearer realm="tokend", error="invalid_token"` ||
			p.Code() != api.ErrUnauthorized || !strings.Contains(p.Detail, api.HeaderVerifyKey+" header holds no key") ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("forward-auth with %q: %d %q %s, want 401 error=\"invalid_token\" naming the header", h, resp.StatusCode, ch, body)
		}
	}
	resp, body := servertest.RawRequest(t, f.URL, "GET", aud, proxy...)
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) == 0 || ch[0] != `Bearer realm="tokend"` {
		t.Errorf("forward-auth without %s: %d %q %s, want 401 with a bare challenge", api.HeaderVerifyKey, resp.StatusCode, ch, body)
	}
}

// TestTwoVerifyKeyHeadersAreRefused: forward-auth given two
// Tokend-Verify-Key headers is refused before either is read, as two
// Authorization headers are: 400 bad-request in a problem document with
// RFC 6750's error="invalid_request", the detail naming the header,
// whichever header holds the good key (both, one, or one empty), on
// /v1/authz and Envoy's /v1/authz/{path}. The key spends nothing: a
// verify key with one credit still lets the next single-header request
// through.
func TestTwoVerifyKeyHeadersAreRefused(t *testing.T) {
	f := newFixture(t)
	vkey := f.adminKeyWithCredits(t, []string{"tokend:verify"}, 1)
	client := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}}).Secret
	aud := "/v1/authz?audience=" + url.QueryEscape(f.api.Audience)
	proxy := []string{"X-Forwarded-Method: GET", "X-Forwarded-Uri: /orders", "Authorization: Bearer " + client}
	h := func(key string) string { return api.HeaderVerifyKey + ": " + key }
	for _, target := range []string{aud, "/v1/authz/orders"} {
		for _, keys := range [][]string{{h(vkey), h(vkey)}, {h(vkey), h("tokend_junk")}, {h("tokend_junk"), h(vkey)},
			{h(vkey), api.HeaderVerifyKey + ":"}} {
			resp, body := servertest.RawRequest(t, f.URL, "GET", target, append(keys, proxy...)...)
			var p api.Problem
			json.Unmarshal([]byte(body), &p)
			if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 400 || len(ch) != 1 ||
				ch[0] != `Bearer realm="tokend", error="invalid_request"` || p.Code() != api.ErrBadRequest ||
				!strings.Contains(p.Detail, "one "+api.HeaderVerifyKey+" header") ||
				resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get(api.HeaderSubject) != "" {
				t.Errorf("%s with %q: %d %q %s, want 400 bad-request with error=\"invalid_request\" naming the header",
					target, keys, resp.StatusCode, ch, body)
			}
		}
	}
	for i, want := range []int{200, 401} {
		if resp, body := servertest.RawRequest(t, f.URL, "GET", aud, append([]string{h(vkey)}, proxy...)...); resp.StatusCode != want {
			t.Errorf("request %d with one header after the refusals: %d %s, want %d (the key's one credit unspent until then)",
				i+1, resp.StatusCode, body, want)
		}
	}
}
