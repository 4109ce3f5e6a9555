package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/routetable"
)

// authz calls /v1/authz (or an Envoy path below it) as a proxy would: its
// verify key in Tokend-Verify-Key and the headers h, of which
// "Authorization" is the client's.
func (f *fixture) authz(t *testing.T, method, path, verifyKey string, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if verifyKey != "" {
		req.Header.Set(api.HeaderVerifyKey, verifyKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (f *fixture) verifyKey(t *testing.T) string {
	t.Helper()
	_, vkey, err := f.Keys.CreateAdminKey(t.Context(), adminActor, "proxy", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// proxied are the headers of a proxy asking about METHOD uri with the
// client's token.
func proxied(method, uri, token string) http.Header {
	h := http.Header{"X-Forwarded-Method": {method}, "X-Forwarded-Uri": {uri}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// TestAuthzAnswers walks the forward-auth contract with the requirements
// on the URL: 200 with the identity headers, 401 and 403 with RFC 6750
// challenges, 400 for what cannot be a question.
func TestAuthzAnswers(t *testing.T) {
	f := newFixture(t)
	vkey := f.verifyKey(t)
	read := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	other, err := f.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Other", Audience: "other", KeyPrefix: "oth"})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := f.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: other.ID, Subject: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const aud = "/v1/authz?audience=https%3A%2F%2Fpay.example"
	twoAuth := proxied("GET", "/orders", read.Secret)
	twoAuth.Add("Authorization", "Bearer "+foreign.Secret)
	spoofed := proxied("GET", "/public", read.Secret)
	spoofed.Set("X-Original-Uri", "/admin")
	tests := []struct {
		name      string
		path, key string
		h         http.Header
		status    int
		challenge string
	}{
		{"valid", aud + "&scope=read", vkey, proxied("GET", "/orders?page=2", read.Secret), 200, ""},
		{"missing scope", aud + "&scope=read&scope=write", vkey, proxied("GET", "/orders", read.Secret), 403,
			`Bearer realm="tokend", error="insufficient_scope", scope="read write"`},
		{"no token", aud, vkey, proxied("GET", "/orders", ""), 401, `Bearer realm="tokend"`},
		{"unknown token", aud, vkey, proxied("GET", "/orders", "pay_nope"), 401, `Bearer realm="tokend", error="invalid_token"`},
		{"other audience", aud, vkey, proxied("GET", "/orders", foreign.Secret), 401, `Bearer realm="tokend", error="invalid_token"`},
		{"no verify key", aud, "", proxied("GET", "/orders", read.Secret), 401, `Bearer realm="tokend"`},
		{"client key as verify key", aud, read.Secret, proxied("GET", "/orders", read.Secret), 401, `Bearer realm="tokend", error="invalid_token"`},
		{"two Authorization headers", aud, vkey, twoAuth, 400, `Bearer realm="tokend", error="invalid_request"`},
		{"token in the original query", aud, vkey, proxied("GET", "/orders?access_token=x", read.Secret), 400, `Bearer realm="tokend", error="invalid_request"`},
		{"no original request", aud, vkey, http.Header{"Authorization": {"Bearer " + read.Secret}}, 400, ""},
		{"client-sent header disagrees with the proxy's", aud, vkey, spoofed, 400, ""},
		{"dot segments", aud, vkey, proxied("GET", "/admin/../public", read.Secret), 400, ""},
		{"encoded slash", aud, vkey, proxied("GET", "/public%2F..%2Fadmin", read.Secret), 400, ""},
		{"double encoding", aud, vkey, proxied("GET", "/public/%252e%252e/admin", read.Secret), 400, ""},
		{"no audience", "/v1/authz?scope=read", vkey, proxied("GET", "/orders", read.Secret), 400, ""},
		{"unknown parameter", aud + "&scopes=read", vkey, proxied("GET", "/orders", read.Secret), 400, ""},
		{"no requirements and no route file", "/v1/authz", vkey, proxied("GET", "/orders", read.Secret), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.authz(t, "GET", tt.path, tt.key, tt.h)
			if resp.StatusCode != tt.status || resp.Header.Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("status %d, challenge %q; want %d, %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tt.status, tt.challenge)
			}
			if resp.StatusCode != 200 && resp.Header.Get(api.HeaderSubject) != "" {
				t.Errorf("a refusal carries %s", api.HeaderSubject)
			}
		})
	}
	resp := f.authz(t, "GET", aud+"&scope=read", vkey, proxied("GET", "/orders", read.Secret))
	got := map[string]string{}
	for _, h := range []string{api.HeaderSubject, api.HeaderTokenID, api.HeaderTokenKind, api.HeaderScopes, api.HeaderAPIID, api.HeaderClientID} {
		got[h] = resp.Header.Get(h)
	}
	want := map[string]string{api.HeaderSubject: "cust_1", api.HeaderTokenID: read.Key.ID, api.HeaderTokenKind: "api_key",
		api.HeaderScopes: "read", api.HeaderAPIID: f.api.ID, api.HeaderClientID: ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identity headers (-want +got):\n%s", diff)
	}
}

// TestAuthzRateLimit: a limited key's answers carry the rate-limit
// headers, and the request over the limit is 429 with Retry-After.
func TestAuthzRateLimit(t *testing.T) {
	f := newFixture(t)
	vkey := f.verifyKey(t)
	k := f.key(t, api.CreateKeyRequest{RateLimits: []api.RateLimit{{Name: "burst", Limit: 2, Window: api.Duration(time.Minute)}}})
	const path = "/v1/authz?audience=https%3A%2F%2Fpay.example"
	for i, want := range []int{200, 200, 429} {
		resp := f.authz(t, "GET", path, vkey, proxied("GET", "/orders", k.Secret))
		if resp.StatusCode != want || resp.Header.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("request %d: %d, X-RateLimit-Limit %q; want %d, 2", i+1, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), want)
		}
		if got := resp.Header.Get("RateLimit-Policy"); got != `"burst";q=2;w=60` {
			t.Errorf("request %d: RateLimit-Policy %q", i+1, got)
		}
		// 2 a minute admit one request every 30 s: Retry-After is exact,
		// not the 60 s until the limit is full again.
		if want == 429 && (resp.Header.Get("Retry-After") != "30" || resp.Header.Get("X-RateLimit-Remaining") != "0") {
			t.Errorf("429 with Retry-After %q, remaining %q; want 30, 0", resp.Header.Get("Retry-After"), resp.Header.Get("X-RateLimit-Remaining"))
		}
	}
}

// TestAuthzRouteTable: without requirements on the URL, the route file
// decides (most specific route, default deny), for nginx/Traefik headers
// and for Envoy's check request alike; a reload takes effect at once.
func TestAuthzRouteTable(t *testing.T) {
	f := newFixture(t)
	vkey := f.verifyKey(t)
	read := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	tab, err := routetable.Parse([]byte(`{"routes": [
		{"path": "/public", "audience": "https://pay.example"},
		{"path": "/admin", "audience": "https://pay.example", "scopes": ["write"]},
		{"host": "shop.example", "path": "/", "methods": ["GET"], "audience": "https://pay.example", "scopes": ["read"]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	f.API.SetAuthzRoutes(tab)
	withHost := proxied("GET", "/cart", read.Secret)
	withHost.Set("X-Forwarded-Host", "shop.example")
	bearer := http.Header{"Authorization": {"Bearer " + read.Secret}}
	tests := []struct {
		name, method, path string
		h                  http.Header
		status             int
	}{
		{"public", "GET", "/v1/authz", proxied("GET", "/public/x", read.Secret), 200},
		{"admin needs write", "GET", "/v1/authz", proxied("POST", "/admin/x", read.Secret), 403},
		{"host route", "GET", "/v1/authz", withHost, 200},
		{"unmatched is denied", "GET", "/v1/authz", proxied("GET", "/cart", read.Secret), 403},
		{"prefix at a segment boundary", "GET", "/v1/authz", proxied("GET", "/publicity", read.Secret), 403},
		{"envoy public", "GET", "/v1/authz/public/x?page=1", bearer, 200},
		{"envoy admin", "POST", "/v1/authz/admin/x", bearer, 403},
		{"envoy encoded slash", "GET", "/v1/authz/public%2F..%2Fadmin", bearer, 400},
		{"envoy path and header disagree", "GET", "/v1/authz/public", proxied("GET", "/admin", read.Secret), 400},
	}
	for _, tt := range tests {
		if resp := f.authz(t, tt.method, tt.path, vkey, tt.h); resp.StatusCode != tt.status {
			t.Errorf("%s: %s %s: %d, want %d", tt.name, tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
	open, err := routetable.Parse([]byte(`{"routes": [{"path": "/", "audience": "https://pay.example"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	f.API.SetAuthzRoutes(open)
	if resp := f.authz(t, "GET", "/v1/authz", vkey, proxied("POST", "/admin/x", read.Secret)); resp.StatusCode != 200 {
		t.Errorf("after a reload: %d, want 200", resp.StatusCode)
	}
}
