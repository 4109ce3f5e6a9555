package tokenauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const audience = "https://billing.example.com"

// clock is the resource server's settable clock, apart from tokend's.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counter is a RoundTripper that counts the calls to tokend by path, on
// the real transport.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) calls(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// env is a real tokend with an API, a verify key, and a resource server
// protected by tokenauth in front of it.
type env struct {
	*servertest.Server
	api       *api.API
	verifyKey string
	clock     *clock
	calls     *counter
	auth      *tokenauth.Auth
	rs        *httptest.Server
}

// newEnv starts tokend and a resource server whose routes are
// GET /invoices (invoices:read), POST /invoices (invoices:write) and
// GET /reports (audience of the "reports" API, reports:read).
func newEnv(t testing.TB, mod func(*tokenauth.Config)) *env {
	t.Helper()
	e := &env{Server: servertest.New(t), calls: &counter{}}
	e.clock = newClock(e.Clock.Now())
	e.api = e.createAPI(t, "billing", audience, "bill", "invoices:read", "invoices:write")
	k, err := e.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: "api_tokend", Subject: "billing-rs",
		Scopes: []string{"tokend:verify"}})
	if err != nil {
		t.Fatal(err)
	}
	e.verifyKey = k.Secret
	cfg := tokenauth.Config{URL: e.URL, VerifyKey: e.verifyKey, Audience: audience,
		HTTPClient: &http.Client{Transport: e.calls}, Now: e.clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	e.auth, err = tokenauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.rs = httptest.NewServer(e.mux())
	t.Cleanup(e.rs.Close)
	return e
}

func (e *env) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /invoices", e.auth.Require("invoices:read")(http.HandlerFunc(whoami)))
	mux.Handle("POST /invoices", e.auth.Require("invoices:write")(http.HandlerFunc(whoami)))
	mux.Handle("GET /reports", e.auth.RequireWith(tokenauth.Requirement{Audience: "https://reports.example.com",
		Scopes: []string{"reports:read"}})(http.HandlerFunc(whoami)))
	mux.Handle("GET /.well-known/oauth-protected-resource", e.auth.MetadataHandler())
	return mux
}

// whoami answers the principal as JSON, or {} without one.
func whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := tokenauth.FromContext(r.Context())
	if !ok {
		io.WriteString(w, "{}")
		return
	}
	json.NewEncoder(w).Encode(p)
}

func (e *env) createAPI(t testing.TB, name, aud, prefix string, scopes ...string) *api.API {
	t.Helper()
	a, err := e.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: name, Audience: aud, Scopes: scopes,
		KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) key(t testing.TB, mod func(*api.CreateKeyRequest)) *api.CreatedKey {
	t.Helper()
	req := api.CreateKeyRequest{APIID: e.api.ID, Subject: "customer-42", Scopes: []string{"invoices:read"}}
	if mod != nil {
		mod(&req)
	}
	k, err := e.Client.CreateKey(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oauthToken creates an OAuth client for the billing API with format
// ("jwt" or "opaque") and returns a client_credentials access token and
// the client id.
func (e *env) oauthClient(t testing.TB, format string, scopes ...string) *clientcredentials.Config {
	t.Helper()
	ttl := api.Duration(24 * time.Hour)
	c, err := e.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: "worker", AccessTokenFormat: format,
		APIScopes: map[string][]string{e.api.ID: scopes}, AccessTokenTTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	return &clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: e.URL + "/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader}
}

func token(t testing.TB, cc *clientcredentials.Config) string {
	t.Helper()
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// answer is what the resource server answered.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) principal(t *testing.T) tokenauth.Principal {
	t.Helper()
	var p tokenauth.Principal
	if err := json.Unmarshal([]byte(a.body), &p); err != nil {
		t.Fatalf("decode principal from %q: %v", a.body, err)
	}
	return p
}

// do sends method path to the resource server with the Authorization
// header values auth (none if empty).
func (e *env) do(t testing.TB, method, path string, auth ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.rs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, strings.TrimSpace(string(b))}
}

func bearer(tok string) string { return "Bearer " + tok }

// forge returns a well-formed token with prefix that tokend never issued.
func forge(t testing.TB, prefix string) string {
	t.Helper()
	return credential.Generate(prefix)
}

// flipLast changes the last character of tok, breaking its checksum.
func flipLast(tok string) string {
	last := byte('A')
	if tok[len(tok)-1] == 'A' {
		last = 'B'
	}
	return tok[:len(tok)-1] + string(last)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
