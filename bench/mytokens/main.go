// Command mytokens measures the "my tokens" surface of a person who
// holds many credentials, in process, on SQLite in a temporary
// directory, wired as "tokend serve" wires it (store, verification
// engine, OAuth, people, pages and API behind one handler on 127.0.0.1):
//
//   - GET /account/tokens (the page, first and last of its cursor pages)
//     and GET /v1/me/tokens?limit=500 for a person holding -n personal
//     access tokens (default 1,000), each used once so that its last use
//     is looked up, plus a few sessions;
//
//   - a cached personal access token verification beside a cached API
//     key verification (verify.Engine.Verify), the target being that
//     they cost the same.
//
//     go run ./bench/mytokens [-n 1000] [-r 50]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/internal/web"
)

const password = "violet-harbour-lantern-42"

func main() {
	n := flag.Int("n", 1000, "personal access tokens the person holds")
	reqs := flag.Int("r", 50, "requests per measured page")
	flag.Parse()
	if err := run(*n, *reqs); err != nil {
		log.Fatal(err)
	}
}

// parts are the services of one in-process tokend.
type parts struct {
	db     *store.DB
	engine *verify.Engine
	keys   *apikey.Service
	users  *user.Service
	url    string
}

func run(n, reqs int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mytokens-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, stop, err := start(ctx, filepath.Join(dir, "tokend.db"))
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	_, u, pat, key, err := fill(ctx, p, n)
	if err != nil {
		return err
	}
	cookie, err := p.users.SignIn(ctx, "alice", password, user.ClientMeta{IP: "192.0.2.1", UserAgent: "bench"})
	if err != nil {
		return err
	}
	_, selfSecret, err := p.keys.CreatePAT(ctx, audit.System, u, api.CreateTokenRequest{APIID: apikey.SystemAPIID, Name: "cli",
		Scopes: []string{apikey.ScopeSelf}, TTL: ptr(api.Duration(24 * time.Hour))})
	if err != nil {
		return err
	}
	ks, err := p.keys.PATs(ctx, u, "", n+10)
	if err != nil {
		return err
	}
	last := ks[len(ks)-101].ID
	fmt.Printf("a person holding %d personal access tokens and %d sessions; %d requests each, one at a time:\n", len(ks), 4, reqs)
	h := http.Header{"Cookie": {"tokend_session=" + cookie.Token}}
	for _, c := range []struct{ name, path string }{
		{"GET /account/tokens (first 100)", "/account/tokens"},
		{"GET /account/tokens (last page)", "/account/tokens?after=" + last},
		{"GET /v1/me/tokens?limit=500", "/v1/me/tokens?limit=500"},
	} {
		hdr := h
		if c.path[1] == 'v' {
			hdr = http.Header{"Authorization": {"Bearer " + selfSecret}}
		}
		ds, err := measure(ctx, p.url+c.path, hdr, reqs)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Printf("  %-34s p50 %6.2f ms  p90 %6.2f ms  max %6.2f ms\n", c.name, ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), ms(ds[len(ds)-1]))
	}
	fmt.Println()
	return verifyBeside(ctx, p.engine, pat, key)
}

// start wires a tokend as "tokend serve" does and serves it on 127.0.0.1.
func start(ctx context.Context, path string) (*parts, func(), error) {
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	sg, err := signer.New(ctx, signer.Config{DB: db, KEK: make([]byte, signer.KEKSize)})
	if err != nil {
		return nil, nil, err
	}
	p := &parts{db: db, url: issuer}
	p.engine = verify.New(verify.Config{DB: db, JWT: &verify.JWTConfig{Signer: sg, Issuer: issuer}})
	p.keys = apikey.NewService(apikey.Config{DB: db})
	if err := p.keys.EnsureSystemAPI(ctx); err != nil {
		return nil, nil, err
	}
	o, err := oauth.New(oauth.Config{DB: db, Signer: sg, Verifier: p.engine, Issuer: issuer, BrowserFlows: true})
	if err != nil {
		return nil, nil, err
	}
	p.users = user.New(user.Config{DB: db, MFA: user.MFAOff})
	pages, err := web.New(web.Config{Users: p.users, OAuth: o, Keys: p.keys})
	if err != nil {
		return nil, nil, err
	}
	srv := server.New(server.Config{DB: db, Keys: p.keys, Engine: p.engine, Signer: sg, OAuth: o, Users: p.users, Pages: pages})
	hs.Config.Handler = srv.Handler()
	hs.Start()
	return p, func() { hs.Close(); db.Close() }, nil
}

// fill creates the API, the person, their n tokens (each verified once,
// the bookkeeping flushed) and an API key; it returns the API's id, the
// person's id, one token and the key.
func fill(ctx context.Context, p *parts, n int) (apiID, userID, pat, key string, err error) {
	a, err := p.keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: "Bench", Audience: "https://bench.example",
		Scopes: []string{"read"}, KeyPrefix: "bench", Policy: api.Policy{
			UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}, ScopeDescriptions: map[string]string{"read": "Read things"}}})
	if err != nil {
		return "", "", "", "", err
	}
	cu, err := p.users.Create(ctx, audit.System, api.CreateUserRequest{Username: "alice", Password: password})
	if err != nil {
		return "", "", "", "", err
	}
	start := time.Now()
	var res verify.Result
	for i := range n {
		_, secret, err := p.keys.CreatePAT(ctx, audit.System, cu.User.ID, api.CreateTokenRequest{APIID: a.ID,
			Name: fmt.Sprintf("token %d", i), Scopes: []string{"read"}, TTL: ptr(api.Duration(30 * 24 * time.Hour))})
		if err != nil {
			return "", "", "", "", err
		}
		req := verify.Request{Token: secret, Audience: a.Audience, Scopes: []string{"read"}, ClientIP: "203.0.113.7", Cost: 1}
		if err := p.engine.Verify(ctx, &req, &res); err != nil || res.Code != api.CodeValid {
			return "", "", "", "", fmt.Errorf("verify token %d: %s %v", i, res.Code, err)
		}
		pat = secret
	}
	for range 3 {
		if _, err := p.users.SignIn(ctx, "alice", password, user.ClientMeta{IP: "192.0.2.2", UserAgent: "bench"}); err != nil {
			return "", "", "", "", err
		}
	}
	if err := p.engine.Flush(ctx); err != nil {
		return "", "", "", "", err
	}
	fmt.Printf("created and used %d tokens in %s\n", n, time.Since(start).Round(time.Millisecond))
	_, key, err = p.keys.CreateKey(ctx, audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "cust", Scopes: []string{"read"}})
	return a.ID, cu.User.ID, pat, key, err
}

// measure GETs url reqs times, after one warm-up, and returns the sorted
// durations; any answer but 200 is an error.
func measure(ctx context.Context, url string, h http.Header, reqs int) ([]time.Duration, error) {
	var ds []time.Duration
	for i := range reqs + 1 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header = h.Clone()
		t := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("status %d %v", resp.StatusCode, err)
		}
		if i > 0 {
			ds = append(ds, time.Since(t))
		}
	}
	slices.Sort(ds)
	return ds, nil
}

// verifyBeside benchmarks a cached verification of a personal access
// token and of an API key of the same API, one goroutine each.
func verifyBeside(ctx context.Context, e *verify.Engine, pat, key string) error {
	var failed atomic.Bool
	bench := func(token string) testing.BenchmarkResult {
		req := &verify.Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, ClientIP: "203.0.113.7", Cost: 1}
		var buf [4]ratelimit.State
		res := verify.Result{RateLimits: buf[:0]}
		return testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Verify(ctx, req, &res); err != nil || res.Code != api.CodeValid {
					failed.Store(true)
				}
			}
		})
	}
	k, t := bench(key), bench(pat)
	if failed.Load() {
		return fmt.Errorf("a verification failed during the benchmark")
	}
	fmt.Println("cached verification in process, one goroutine:")
	fmt.Printf("  API key                %6d ns/op %3d allocs/op\n", k.NsPerOp(), k.AllocsPerOp())
	fmt.Printf("  personal access token  %6d ns/op %3d allocs/op  (%.2f× the API key; it also counts its recent use)\n",
		t.NsPerOp(), t.AllocsPerOp(), float64(t.NsPerOp())/float64(k.NsPerOp()))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ptr[T any](v T) *T { return &v }
