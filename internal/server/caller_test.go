package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/servertest"
)

// adminKeyWithCredits makes a key of the built-in API with scopes and a
// credit balance, through the management API as an operator would.
func (f *fixture) adminKeyWithCredits(t *testing.T, scopes []string, credits int64) string {
	t.Helper()
	k, err := f.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: "api_tokend", Subject: "job", Scopes: scopes,
		Credits: &api.Credits{Remaining: credits}})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k.Secret
}

// TestAdminKeyCreditsAreSpent: an admin or verify key given credits spends
// one per authenticated request and is refused (401) once they are gone,
// so that a key handed out for a one-off job is not unlimited (review
// item M2). A request refused for its scope spends nothing.
func TestAdminKeyCreditsAreSpent(t *testing.T) {
	f := newFixture(t)
	two := f.adminKeyWithCredits(t, []string{"tokend:admin"}, 2)
	for i, want := range []int{200, 200, 401, 401} {
		if resp, _ := f.raw(t, "GET", "/v1/apis", "", "", "Bearer "+two); resp.StatusCode != want {
			t.Errorf("request %d with a 2-credit admin key: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	zero := f.adminKeyWithCredits(t, []string{"tokend:admin"}, 0)
	if resp, p := f.raw(t, "GET", "/v1/apis", "", "", "Bearer "+zero); resp.StatusCode != 401 || p.Code() != api.ErrUnauthorized {
		t.Errorf("admin key without credits left: %d %s, want 401 unauthorized", resp.StatusCode, p.Code())
	}
	verifier := f.adminKeyWithCredits(t, []string{"tokend:verify"}, 1)
	if resp, _ := f.raw(t, "GET", "/v1/apis", "", "", "Bearer "+verifier); resp.StatusCode != 403 {
		t.Errorf("verify key on an admin route: %d, want 403", resp.StatusCode)
	}
	body := `{"token":"` + f.AdminKey + `"}`
	for i, want := range []int{200, 401} {
		if resp, _ := f.raw(t, "POST", "/v1/verify", "application/json", body, "Bearer "+verifier); resp.StatusCode != want {
			t.Errorf("verification %d with a 1-credit verify key after a 403: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

// TestEncodingErrorIsA500: an answer that cannot be encoded is a 500
// problem, never an empty 200 a careless resource server might read as
// success (review item L12). A JWT whose exp is in the year 10000 (signed
// with tokend's key, as only the key's holder could) cannot be answered in
// RFC 3339.
func TestEncodingErrorIsA500(t *testing.T) {
	f := newFixture(t)
	tok, err := f.Signer.Sign(map[string]any{"iss": f.Issuer, "sub": "c", "aud": f.api.Audience,
		"exp": int64(253402300800), "iat": f.Clock.Now().Unix(), "jti": "j", "client_id": "c"}, credential.TypAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	resp, p, body := f.rawBody(t, "POST", "/v1/verify", "application/json", `{"token":"`+tok+`"}`, "")
	if resp.StatusCode != 500 || p.Code() != api.ErrInternal {
		t.Fatalf("verify of an unencodable answer: %d %q, want a 500 problem", resp.StatusCode, body)
	}
	if !strings.Contains(f.Logs.String(), "encode answer") {
		t.Error("the encoding failure is not logged")
	}
}

// TestOAuthAnswersAreNeverCached: every OAuth answer, errors and the
// bodiless revocation 200 included, carries Cache-Control: no-store and
// Pragma: no-cache (RFC 6749 §5.1; review item C13).
func TestOAuthAnswersAreNeverCached(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	basic := func(r *http.Request) { r.SetBasicAuth(c.Client.ID, c.Secret) }
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, path, ctype, body string
		mod                             func(*http.Request)
		want                            int
	}{
		{"token", "POST", "/oauth2/token", form, "grant_type=client_credentials", basic, 200},
		{"token error", "POST", "/oauth2/token", form, "grant_type=password", basic, 400},
		{"bad client", "POST", "/oauth2/token", form, "grant_type=client_credentials", nil, 401},
		{"revoke", "POST", "/oauth2/revoke", form, "token=" + url.QueryEscape(f.AdminKey), basic, 200},
		{"revoke error", "POST", "/oauth2/revoke", "text/plain", "token=x", basic, 400},
		{"introspect by client", "POST", "/oauth2/introspect", form, "token=x", basic, 200},
		{"introspect by key", "POST", "/oauth2/introspect", form, "token=x",
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.AdminKey) }, 200},
		{"introspect bad key", "POST", "/oauth2/introspect", form, "token=x",
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, 401},
		{"register", "POST", "/oauth2/register", "application/json",
			fmt.Sprintf(`{"client_name":"r","tokend_api_scopes":{%q:["read"]}}`, f.api.ID), nil, 201},
		{"register error", "POST", "/oauth2/register", "application/json", `[`, nil, 400},
		{"registration unknown", "GET", "/oauth2/register/cli_x", "", "", nil, 401},
	}
	for _, tc := range cases {
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, f.URL+tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.mod != nil {
			tc.mod(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if cc, pr := resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"); cc != "no-store" || pr != "no-cache" {
			t.Errorf("%s: Cache-Control %q, Pragma %q; want no-store, no-cache", tc.name, cc, pr)
		}
	}
}

// TestPersonTokenOnVerifyRouteSpendsNothing: a person's token on a route
// a verify key may call is refused (403) before it spends anything of
// its own: a personal access token of the built-in API with one request
// an hour is refused at /v1/verify, introspection and forward-auth, and
// after all of them still has its one request, which an admin's
// verification of it then spends.
func TestPersonTokenOnVerifyRouteSpendsNothing(t *testing.T) {
	f := newPATFixture(t)
	pat := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"},
		RateLimits: []api.RateLimit{{Name: "hour", Limit: 1, Window: api.Duration(time.Hour)}}}).Secret
	for _, c := range []struct{ method, path, ctype, body string }{
		{"POST", "/v1/verify", "application/json", `{"token":"` + f.AdminKey + `"}`},
		{"POST", "/v1/verify", "application/json", `{"token":"` + f.AdminKey + `"}`},
		{"POST", "/oauth2/introspect", "application/x-www-form-urlencoded", "token=" + url.QueryEscape(f.AdminKey)},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, f.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		req.Header.Set("Authorization", "Bearer "+pat)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%s %s with a personal access token: %d, want 403", c.method, c.path, resp.StatusCode)
		}
	}
	resp, body := servertest.RawRequest(t, f.URL, "GET", "/v1/authz?audience="+url.QueryEscape(f.api.Audience),
		api.HeaderVerifyKey+": "+pat, "X-Forwarded-Method: GET", "X-Forwarded-Uri: /", "Authorization: Bearer "+f.AdminKey)
	if resp.StatusCode != 403 {
		t.Errorf("forward-auth with a personal access token as the verify key: %d %s, want 403", resp.StatusCode, body)
	}
	r := f.verify(t, api.VerifyRequest{Token: pat})
	if r.Code != api.CodeValid || len(r.RateLimits) != 1 || r.RateLimits[0].Remaining != 0 {
		t.Errorf("verify(the token) after its refusals = %s %+v, want VALID with its one request spent now", r.Code, r.RateLimits)
	}
}
