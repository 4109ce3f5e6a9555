package tokenauth_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
)

// Example is a resource server in front of a real tokend: one route that
// needs invoices:read, called with an API key, with none, and with a key
// that lacks the scope.
func Example() {
	tokend := startTokend()
	defer tokend.close()

	auth, err := tokenauth.New(tokenauth.Config{
		URL:       tokend.URL,
		VerifyKey: tokend.verifyKey, // a key with scope tokend:verify
		Audience:  "https://billing.example.com",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /invoices", auth.Require("invoices:read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := tokenauth.FromContext(r.Context())
			fmt.Fprintf(w, "invoices of %s\n", p.Subject)
		})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get(srv.URL+"/invoices", tokend.readKey)
	get(srv.URL+"/invoices", "")
	get(srv.URL+"/invoices", tokend.otherKey)
	// Output:
	// 200 invoices of customer-42
	// 401 Bearer scope="invoices:read", resource_metadata="https://billing.example.com/.well-known/oauth-protected-resource"
	// 403 Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="invoices:read", resource_metadata="https://billing.example.com/.well-known/oauth-protected-resource"
}

// ExampleAuth_MetadataHandler serves the RFC 9728 metadata that every
// challenge's resource_metadata points to.
func ExampleAuth_MetadataHandler() {
	auth, err := tokenauth.New(tokenauth.Config{
		URL:      "https://tokend.example.com",
		Audience: "https://billing.example.com",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /invoices", auth.Require("invoices:read")(http.NotFoundHandler()))
	mux.Handle("GET /.well-known/oauth-protected-resource", auth.MetadataHandler())

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-protected-resource", nil))
	fmt.Print(w.Body.String())
	// Output:
	// {"resource":"https://billing.example.com","authorization_servers":["https://tokend.example.com"],"scopes_supported":["invoices:read"],"bearer_methods_supported":["header"],"dpop_signing_alg_values_supported":["ES256","EdDSA","Ed25519","RS256","PS256"]}
}

// ExampleAuth_Check verifies a request without the middleware, for code
// that must decide more than pass or refuse, such as a gateway. Here the
// token came in the query string, which is refused before any check.
func ExampleAuth_Check() {
	auth, err := tokenauth.New(tokenauth.Config{
		URL:      "https://tokend.example.com",
		Audience: "https://billing.example.com",
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/invoices?access_token=x", nil)
	w := httptest.NewRecorder()
	p, err := auth.Check(r, tokenauth.Requirement{Scopes: []string{"invoices:read"}})
	if err != nil {
		auth.WriteError(w, err)
		fmt.Println(w.Code, w.Body.String())
		return
	}
	fmt.Println("hello", p.Subject)
	// Output:
	// 400 {"error":"invalid_request","error_description":"tokens are not accepted in the query string; send them in the Authorization header"}
}

// ExampleWriteRateLimitHeaders shows the headers written for a key with
// two named limits, as /v1/verify reported them.
func ExampleWriteRateLimitHeaders() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.Header{}
	tokenauth.WriteRateLimitHeaders(h, []api.RateLimitState{
		{Name: "burst", Limit: 10, Remaining: 2, Reset: now.Add(8 * time.Second)},
		{Name: "daily", Limit: 1000, Remaining: 900, Reset: now.Add(2 * time.Hour)},
	}, now)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Printf("%s: %s\n", k, h.Get(k))
	}
	// Output:
	// Ratelimit: "burst";r=2;t=8, "daily";r=900;t=7200
	// Ratelimit-Policy: "burst";q=10, "daily";q=1000
	// X-Ratelimit-Limit: 10
	// X-Ratelimit-Remaining: 2
	// X-Ratelimit-Reset: 1767323053
}

// get prints the status and the body, or the challenge, of GET u with
// token as bearer.
func get(u, token string) {
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(b)))
		return
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
}

// exampleTokend is a real tokend for the examples, with the billing API,
// a verify key and two keys of the API.
type exampleTokend struct {
	*servertest.Server
	tb                           *exampleTB
	verifyKey, readKey, otherKey string
}

func startTokend() *exampleTokend {
	tb := &exampleTB{}
	s := servertest.New(tb)
	ctx := context.Background()
	must := func(k *api.CreatedKey, err error) string {
		if err != nil {
			panic(err)
		}
		return k.Secret
	}
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "billing", Audience: "https://billing.example.com",
		Scopes: []string{"invoices:read", "invoices:write"}, KeyPrefix: "bill"})
	if err != nil {
		panic(err)
	}
	return &exampleTokend{Server: s, tb: tb,
		verifyKey: must(s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: "api_tokend", Subject: "billing",
			Scopes: []string{"tokend:verify"}})),
		readKey: must(s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "customer-42",
			Scopes: []string{"invoices:read"}})),
		otherKey: must(s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "customer-43",
			Scopes: []string{"invoices:write"}})),
	}
}

func (t *exampleTokend) close() { t.tb.cleanup() }

// exampleTB lets servertest, which expects a test, run in an example:
// it implements the methods servertest calls, and the embedded nil
// testing.TB makes any other call fail loudly.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (e *exampleTB) Helper()                   {}
func (e *exampleTB) Context() context.Context  { return context.Background() }
func (e *exampleTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (e *exampleTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (e *exampleTB) Cleanup(f func())          { e.cleanups = append(e.cleanups, f) }

func (e *exampleTB) TempDir() string {
	d, err := os.MkdirTemp("", "tokenauth-example-")
	if err != nil {
		panic(err)
	}
	e.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (e *exampleTB) cleanup() {
	for _, f := range slices.Backward(e.cleanups) {
		f()
	}
}
