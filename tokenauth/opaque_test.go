package tokenauth_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/tokenauth"
)

const metadataURL = "https://billing.example.com/.well-known/oauth-protected-resource"

func TestAPIKeyPrincipal(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, func(r *api.CreateKeyRequest) {
		r.Name = "ci"
		r.Metadata = json.RawMessage(`{"plan":"pro"}`)
	})
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.status, a.body)
	}
	want := tokenauth.Principal{Subject: "customer-42", TokenID: k.Key.ID, Kind: tokenauth.KindAPIKey,
		Scopes: []string{"invoices:read"}, APIID: e.api.ID, Name: "ci", Metadata: json.RawMessage(`{"plan":"pro"}`)}
	if diff := cmp.Diff(want, a.principal(t)); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
	if h := a.header.Get("X-RateLimit-Limit"); h != "" {
		t.Errorf("X-RateLimit-Limit %q for a key without limits", h)
	}
}

func TestOpaqueAccessTokenPrincipal(t *testing.T) {
	e := newEnv(t, nil)
	cc := e.oauthClient(t, "opaque", "invoices:read")
	tok := token(t, cc)
	a := e.do(t, "GET", "/invoices", bearer(tok))
	if a.status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.status, a.body)
	}
	p := a.principal(t)
	if p.Kind != tokenauth.KindAccessToken || p.ClientID != cc.ClientID || p.Subject != cc.ClientID ||
		!p.HasScope("invoices:read") || p.ExpiresAt.IsZero() {
		t.Errorf("principal %+v", p)
	}
}

// TestRefusals checks every refusal's status, challenge and body to the
// byte.
func TestRefusals(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, nil)
	other := e.createAPI(t, "other", "https://other.example.com", "oth", "x")
	otherKey, err := e.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: other.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	// A well-formed token of the right prefix that tokend never issued:
	// same shape, other secret (a checksum-valid forgery).
	forged := forge(t, "bill")
	const (
		bare    = `Bearer scope="invoices:read", resource_metadata="` + metadataURL + `"`
		invalid = `Bearer error="invalid_token", error_description="%s", scope="invoices:read", resource_metadata="` + metadataURL + `"`
		badReq  = `Bearer error="invalid_request", error_description="%s", scope="invoices:read", resource_metadata="` + metadataURL + `"`
	)
	inQuery := "tokens are not accepted in the query string; send them in the Authorization header"
	tests := []struct {
		name      string
		method    string
		path      string
		auth      []string
		status    int
		challenge string
		errCode   string
	}{
		{"no header", "GET", "/invoices", nil, 401, bare, "invalid_token"},
		{"basic scheme", "GET", "/invoices", []string{"Basic YTpi"}, 401, bare, "invalid_token"},
		{"empty bearer", "GET", "/invoices", []string{"Bearer "}, 401,
			sprintf(invalid, "the bearer token is malformed"), "invalid_token"},
		{"two tokens in one header", "GET", "/invoices", []string{"Bearer " + k.Secret + ", Bearer x"}, 401,
			sprintf(invalid, "the bearer token is malformed"), "invalid_token"},
		{"outside b64token", "GET", "/invoices", []string{bearer(k.Secret[:10] + "!" + k.Secret[11:])}, 401,
			sprintf(invalid, "the bearer token is malformed"), "invalid_token"},
		{"padding inside", "GET", "/invoices", []string{"Bearer ab=cd"}, 401,
			sprintf(invalid, "the bearer token is malformed"), "invalid_token"},
		{"non-ASCII", "GET", "/invoices", []string{bearer(k.Secret[:10] + "é" + k.Secret[11:])}, 401,
			sprintf(invalid, "the bearer token is malformed"), "invalid_token"},
		{"truncated", "GET", "/invoices", []string{bearer(k.Secret[:len(k.Secret)-1])}, 401,
			sprintf(invalid, "the token is malformed"), "invalid_token"},
		{"checksum broken", "GET", "/invoices", []string{bearer(flipLast(k.Secret))}, 401,
			sprintf(invalid, "the token is malformed"), "invalid_token"},
		{"forged", "GET", "/invoices", []string{bearer(forged)}, 401,
			sprintf(invalid, "the token is unknown or not meant for this resource"), "invalid_token"},
		{"another API's key", "GET", "/invoices", []string{bearer(otherKey.Secret)}, 401,
			sprintf(invalid, "the token is unknown or not meant for this resource"), "invalid_token"},
		{"garbage JWT", "GET", "/invoices", []string{"Bearer a.b.c"}, 401, "", "invalid_token"},
		{"duplicate header", "GET", "/invoices", []string{bearer(k.Secret), bearer(k.Secret)}, 400,
			sprintf(badReq, "more than one Authorization header"), "invalid_request"},
		{"access_token in query", "GET", "/invoices?access_token=" + k.Secret, nil, 400,
			sprintf(badReq, inQuery), "invalid_request"},
		{"Access_Token in query with header", "GET", "/invoices?Access_Token=x", []string{bearer(k.Secret)}, 400,
			sprintf(badReq, inQuery), "invalid_request"},
		{"token-shaped query value", "GET", "/invoices?q=" + k.Secret, []string{bearer(k.Secret)}, 400,
			sprintf(badReq, inQuery), "invalid_request"},
		{"missing scope", "POST", "/invoices", []string{bearer(k.Secret)}, 403,
			`Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="invoices:write", resource_metadata="` + metadataURL + `"`,
			"insufficient_scope"},
		{"other route audience", "GET", "/reports", []string{bearer(k.Secret)}, 401,
			`Bearer error="invalid_token", error_description="the token is unknown or not meant for this resource", scope="reports:read", resource_metadata="` + metadataURL + `"`,
			"invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, tt.auth...)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.status, a.body)
			}
			if got := a.header.Get("WWW-Authenticate"); tt.challenge != "" && got != tt.challenge {
				t.Errorf("WWW-Authenticate\n got %s\nwant %s", got, tt.challenge)
			}
			var body struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(a.body), &body); err != nil || body.Error != tt.errCode {
				t.Errorf("body %s, want error %q", a.body, tt.errCode)
			}
			if a.header.Get("Content-Type") != "application/json" || a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", a.header)
			}
			if strings.Contains(a.body, k.Secret) || strings.Contains(a.header.Get("WWW-Authenticate"), k.Secret) {
				t.Error("the answer repeats the token")
			}
		})
	}
}

// TestMalformedTokensAreNotSentToTokend: a token that cannot be tokend's
// is refused without a call.
func TestMalformedTokensAreNotSentToTokend(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, nil)
	for _, tok := range []string{k.Secret[:20], flipLast(k.Secret), "bill_" + strings.Repeat("A", 49), "x"} {
		if a := e.do(t, "GET", "/invoices", bearer(tok)); a.status != 401 {
			t.Errorf("%q: status %d", tok, a.status)
		}
	}
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("tokend asked %d times", n)
	}
}

func TestRevokedKeyRefusedAfterCacheWindow(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.CacheTTL = 5 * time.Second })
	k := e.key(t, nil)
	if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
		t.Fatalf("before revocation: %d %s", a.status, a.body)
	}
	if _, err := e.Client.RevokeKey(t.Context(), k.Key.ID); err != nil {
		t.Fatal(err)
	}
	// Within the window the cached answer stands (the documented cost of
	// the cache); tokend is not asked.
	e.clock.Advance(4 * time.Second)
	if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
		t.Fatalf("within the cache window: %d %s", a.status, a.body)
	}
	if n := e.calls.calls("/v1/verify"); n != 1 {
		t.Errorf("tokend asked %d times, want 1", n)
	}
	e.clock.Advance(time.Second)
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `error_description="the token has been revoked"`) {
		t.Fatalf("after the window: %d %v", a.status, a.header)
	}
}

func TestCacheDisabledAsksEveryTime(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.CacheTTL = -1 })
	k := e.key(t, nil)
	for range 3 {
		if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
	}
	if n := e.calls.calls("/v1/verify"); n != 3 {
		t.Errorf("tokend asked %d times, want 3", n)
	}
}

// TestLimitedKeysAreAlwaysAsked: a key with a rate limit is asked about
// at every request, even concurrent ones, so that the limit holds; the
// headers follow each answer and the request over the limit gets 429.
func TestLimitedKeysAreAlwaysAsked(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, func(r *api.CreateKeyRequest) {
		r.RateLimits = []api.RateLimit{{Name: "burst", Limit: 3, Window: api.Duration(time.Minute)},
			{Name: "daily", Limit: 100, Window: api.Duration(24 * time.Hour)}}
	})
	var wg sync.WaitGroup
	statuses := make(chan int, 5)
	for range 5 {
		wg.Go(func() { statuses <- e.do(t, "GET", "/invoices", bearer(k.Secret)).status })
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if diff := cmp.Diff(map[int]int{200: 3, 429: 2}, count); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := e.calls.calls("/v1/verify"); n != 5 {
		t.Errorf("tokend asked %d times, want 5", n)
	}
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	reset := e.clock.Now().Add(time.Minute)
	want := map[string]string{
		"X-Ratelimit-Limit":     "3",
		"X-Ratelimit-Remaining": "0",
		"X-Ratelimit-Reset":     itoa(reset.Unix()),
		"Ratelimit-Policy":      `"burst";q=3;w=60, "daily";q=100;w=86400`,
		// 3 a minute is one request per 20 s: the burst limit admits the
		// next one 20 s on, though it is fully reset only in 60 s.
		"Retry-After": "20",
	}
	for h, v := range want {
		if got := a.header.Get(h); got != v {
			t.Errorf("%s: %q, want %q", h, got, v)
		}
	}
	if a.status != 429 || a.body != `{"error":"rate_limited","error_description":"rate limit exceeded"}` {
		t.Errorf("%d %s", a.status, a.body)
	}
	if got := a.header.Get("RateLimit"); !strings.HasPrefix(got, `"burst";r=0;t=60, "daily";r=`) {
		t.Errorf("RateLimit: %q", got)
	}
}

func TestRateLimitHeadersOnSuccess(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, func(r *api.CreateKeyRequest) {
		r.RateLimits = []api.RateLimit{{Name: "burst", Limit: 10, Window: api.Duration(10 * time.Second)}}
	})
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	got := map[string]string{}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "RateLimit-Policy", "RateLimit", "Retry-After"} {
		got[h] = a.header.Get(h)
	}
	want := map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9",
		"RateLimit-Policy": `"burst";q=10;w=10`, "RateLimit": `"burst";r=9;t=1`, "Retry-After": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if p := a.principal(t); len(p.RateLimits) != 1 || p.RateLimits[0].Remaining != 9 {
		t.Errorf("principal rate limits %+v", p.RateLimits)
	}
}

func TestCreditsAreAlwaysAsked(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, func(r *api.CreateKeyRequest) { r.Credits = &api.Credits{Remaining: 2} })
	var got []int
	for range 3 {
		got = append(got, e.do(t, "GET", "/invoices", bearer(k.Secret)).status)
	}
	if diff := cmp.Diff([]int{200, 200, 429}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := e.calls.calls("/v1/verify"); n != 3 {
		t.Errorf("tokend asked %d times, want 3", n)
	}
}

// TestConcurrentMissesShareOneCall: requests with one unlimited token
// that arrive together ask tokend once.
func TestConcurrentMissesShareOneCall(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
				t.Errorf("%d %s", a.status, a.body)
			}
		})
	}
	wg.Wait()
	if n := e.calls.calls("/v1/verify"); n < 1 || n > 20 {
		t.Errorf("tokend asked %d times", n)
	}
}

func TestTokendDownFailsClosed(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, nil)
	down := closedURL(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, policy := range []tokenauth.FailurePolicy{tokenauth.FailClosed, tokenauth.InsecureFailOpen} {
		auth, err := tokenauth.New(tokenauth.Config{URL: down, VerifyKey: e.verifyKey, Audience: audience,
			FailurePolicy: policy, Timeout: 2 * time.Second, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		e.auth = auth
		e.rs.Config.Handler = e.mux()
		a := e.do(t, "GET", "/invoices", bearer(k.Secret))
		switch policy {
		case tokenauth.FailClosed:
			if a.status != 503 || a.header.Get("Retry-After") != "5" || a.header.Get("WWW-Authenticate") != "" ||
				a.body != `{"error":"temporarily_unavailable","error_description":"the token cannot be verified now; try again later"}` {
				t.Errorf("fail closed: %d %v %s", a.status, a.header, a.body)
			}
		case tokenauth.InsecureFailOpen:
			if a.status != 200 || a.body != "{}" {
				t.Errorf("fail open: %d %s, want the handler without a principal", a.status, a.body)
			}
		}
		// A request without a token is refused whatever the policy.
		if a := e.do(t, "GET", "/invoices"); a.status != 401 {
			t.Errorf("no token: %d", a.status)
		}
	}
	if !strings.Contains(logs.String(), "cannot verify a token") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), k.Secret) || strings.Contains(logs.String(), e.verifyKey) {
		t.Error("the log holds a secret")
	}
}

// TestWrongVerifyKeyFailsClosed: a verify key tokend refuses is a
// misconfiguration, answered 503, never a verdict on the client's token.
func TestWrongVerifyKeyFailsClosed(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.VerifyKey = forge(t, "tokend") })
	k := e.key(t, nil)
	if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 503 {
		t.Errorf("%d %s", a.status, a.body)
	}
}

func TestMetadataHandler(t *testing.T) {
	e := newEnv(t, nil)
	a := e.do(t, "GET", "/.well-known/oauth-protected-resource")
	var got tokenauth.ResourceMetadata
	if err := json.Unmarshal([]byte(a.body), &got); err != nil {
		t.Fatalf("%d %s: %v", a.status, a.body, err)
	}
	want := tokenauth.ResourceMetadata{Resource: audience, AuthorizationServers: []string{e.Issuer},
		ScopesSupported: []string{"invoices:read", "invoices:write", "reports:read"}, BearerMethodsSupported: []string{"header"},
		DPoPSigningAlgValuesSupported: []string{"ES256", "EdDSA", "Ed25519", "RS256", "PS256"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := tokenauth.New(tokenauth.Config{URL: "ftp://x", RevocationCheckInterval: time.Second, CacheTTL: time.Hour})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"URL must be", "Audience is required", "RevocationCheckInterval needs VerifyKey", "CacheTTL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
