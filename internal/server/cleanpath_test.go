package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestUncleanAPIPath: a path of the API with an empty, . or .. segment is
// a 404 problem document, not ServeMux's redirect with an HTML body, and
// changes nothing; the clean paths beside it still route as before.
func TestUncleanAPIPath(t *testing.T) {
	f := newFixture(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(t *testing.T, method, path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, f.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+f.AdminKey)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, p := range []string{"/v1//keys", "/v1/keys//", "//v1/keys/../keys", "/v1/./keys", "/v1/apis/../keys",
		"/oauth2//userinfo", "/v1/authz//orders", "/.well-known//openid-configuration"} {
		for _, method := range []string{"GET", "POST"} {
			resp, b := do(t, method, p)
			if p == "//v1/keys/../keys" {
				// Not an API path (it starts with //): the mux's answer stands.
				continue
			}
			var prob api.Problem
			if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" ||
				json.Unmarshal(b, &prob) != nil || prob.Code() != api.ErrNotFound || resp.Header.Get("Location") != "" {
				t.Errorf("%s %s = %d %q %s, want a 404 problem", method, p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		}
	}
	for _, p := range []string{"/v1/keys", "/v1/keys?limit=1", "/v1/users", "/.well-known/openid-configuration"} {
		if resp, b := do(t, "GET", p); resp.StatusCode != 200 {
			t.Errorf("GET %s = %d %s, want 200", p, resp.StatusCode, b)
		}
	}
	if resp, _ := do(t, "GET", "/v1/keys/key%2F..%2Fx"); resp.StatusCode != 404 { // an id with escaped slashes: no such key
		t.Errorf("GET /v1/keys/key%%2F..%%2Fx = %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", "/v1/nope/"); resp.StatusCode != 404 {
		t.Errorf("GET /v1/nope/ = %d, want 404", resp.StatusCode)
	}
}

// TestMethodNotAllowedAllow: a known path with another method is a 405
// problem whose Allow lists every method the path takes, HEAD with GET
// (the mux serves it) and OPTIONS where Envoy's check requests take it;
// a method other than GET on /v1/authz is such a 405 too, not ServeMux's
// redirect to /v1/authz/.
func TestMethodNotAllowedAllow(t *testing.T) {
	f := newFixture(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/v1/apis", "GET, HEAD, POST"},
		{"OPTIONS", "/v1/keys/key_x", "GET, HEAD, PATCH"},
		{"GET", "/oauth2/token", "POST"},
		{"PATCH", "/oauth2/register/cli_x", "GET, HEAD, PUT, DELETE"},
		{"POST", "/v1/authz", "GET, HEAD"},
		{"DELETE", "/v1/authz", "GET, HEAD"},
		{"TRACE", "/v1/authz/orders", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), c.method, f.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+f.AdminKey)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p api.Problem
		json.Unmarshal(b, &p)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow ||
			resp.Header.Get("Location") != "" || p.Code() != api.ErrMethodNotAllowed {
			t.Errorf("%s %s: %d, Allow %q, Location %q, %s; want 405 with Allow %q", c.method, c.path,
				resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Location"), b, c.allow)
		}
	}
	// HEAD, which Allow promises, is served where GET is.
	req, _ := http.NewRequestWithContext(t.Context(), "HEAD", f.URL+"/v1/apis", nil)
	req.Header.Set("Authorization", "Bearer "+f.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD /v1/apis: %d, want 200", resp.StatusCode)
	}
}
