// Command oauthload measures tokend's OAuth token endpoint and
// introspection end to end. It starts tokend in process on SQLite in a
// temporary directory (wired as "tokend serve" wires it, with an ES256
// signing key), registers an API and two clients, then drives, with a
// closed-loop load generator at -c connections:
//
//   - POST /oauth2/token, client_credentials, client_secret_basic, for a
//     client with ES256 JWT access tokens and one with opaque tokens;
//   - POST /oauth2/introspect of random opaque access tokens, the caller
//     authenticated as a client;
//   - a bare net/http handler that reads a form body and answers a fixed
//     JSON token response, for the cost of HTTP alone on this machine;
//
// and measures the raw ES256 signature rate (P-256, RFC 6979, the call
// tokend makes) on every core, the floor under JWT issuance.
//
//	go run ./bench/oauthload [-c 64] [-d 10s] [-tokens 10000]
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// Targets (issue #3).
const (
	minJWTRPS      = 5000
	minIntrospectR = 0.50
)

type options struct {
	c, tokens int
	d         time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.c, "c", 64, "concurrent connections")
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each measured run")
	flag.IntVar(&o.tokens, "tokens", 10_000, "opaque tokens to issue for the introspection run")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "oauthload:", err)
		os.Exit(1)
	}
}

type bench struct {
	url          string
	jwt, opaque  api.CreatedClient
	introspector api.CreatedClient
}

func run(o options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-oauthload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("oauthload: %s, %d CPUs, GOMAXPROCS %d; %d connections, keep-alive; %s per run\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), o.c, o.d)
	fmt.Println("NOTE: load generator, tokend and the bare server share this process and its cores;")
	fmt.Println("      read tokend against the bare handler of the same run.")
	b, stop, err := start(ctx, dir)
	if err != nil {
		return err
	}
	defer stop()
	client := loadgen.Client(o.c)

	signRate := ecdsaRate(2 * time.Second)
	fmt.Printf("\nraw ES256 signature (RFC 6979) on %d goroutines: %.0f signatures/s\n", runtime.GOMAXPROCS(0), signRate)

	bare := runBare(client, o)
	fmt.Printf("bare net/http (read form, fixed token JSON):    %s\n", bare)

	jwt := runToken(client, b, b.jwt, o)
	fmt.Printf("tokend /oauth2/token client_credentials, JWT:    %s\n", jwt)
	opq := runToken(client, b, b.opaque, o)
	fmt.Printf("tokend /oauth2/token client_credentials, opaque: %s\n", opq)

	toks, err := issue(client, b, o.tokens)
	if err != nil {
		return err
	}
	in := runIntrospect(client, b, toks, o)
	fmt.Printf("tokend /oauth2/introspect, opaque token of %d:  %s\n", len(toks), in)

	fmt.Println("\n-- verdict --")
	fmt.Printf("  JWT issuance %.0f tokens/s (target >= %d) %s; %.2f of bare, %.2f of raw ES256 signing\n",
		jwt.RPS(), minJWTRPS, mark(jwt.RPS() >= minJWTRPS), jwt.RPS()/bare.RPS(), jwt.RPS()/signRate)
	fmt.Printf("  opaque issuance %.0f tokens/s; %.2f of bare (no target; one SQLite write each)\n", opq.RPS(), opq.RPS()/bare.RPS())
	r := in.RPS() / bare.RPS()
	fmt.Printf("  opaque introspection %.0f req/s = %.2f of bare (target >= %.2f) %s\n", in.RPS(), r, minIntrospectR, mark(r >= minIntrospectR))
	fmt.Printf("  errors: jwt %d, opaque %d, introspection %d, bare %d %s\n", jwt.Errors, opq.Errors, in.Errors, bare.Errors,
		mark(jwt.Errors+opq.Errors+in.Errors+bare.Errors == 0))
	return nil
}

// start wires tokend as cmd/tokend/serve.go does and registers the
// benchmark's API and clients.
func start(ctx context.Context, dir string) (*bench, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, filepath.Join(dir, "tokend.db"), store.Options{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	issuer := "http://" + ln.Addr().String()
	kek := make([]byte, signer.KEKSize)
	rand.Read(kek)
	sg, err := signer.New(ctx, signer.Config{DB: db, KEK: kek, Alg: signer.ES256, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	engine := verify.New(verify.Config{DB: db, Metrics: verify.NewMetrics(reg), Logger: log,
		JWT: &verify.JWTConfig{Signer: sg, Issuer: issuer}})
	keys := apikey.NewService(apikey.Config{DB: db, Logger: log})
	if err := keys.EnsureSystemAPI(ctx); err != nil {
		return nil, nil, err
	}
	oa, err := oauth.New(oauth.Config{DB: db, Signer: sg, Verifier: engine, Issuer: issuer,
		Logger: log})
	if err != nil {
		return nil, nil, err
	}
	srv := server.New(server.Config{DB: db, Keys: keys, Engine: engine, Signer: sg, OAuth: oa, Gatherer: reg, Logger: log})
	hs := server.HTTPServer(ln.Addr().String(), srv.Handler(), log)
	go hs.Serve(ln)
	bg, cancel := context.WithCancel(ctx)
	go engine.Run(bg)
	stop := func() { hs.Close(); cancel(); db.Close() }

	by := audit.Actor{ID: "bench"}
	a, err := keys.CreateAPI(ctx, by, api.CreateAPIRequest{Name: "Bench", Audience: "https://bench.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "bench"})
	if err != nil {
		return nil, nil, err
	}
	b := &bench{url: issuer}
	for _, c := range []struct {
		dst    *api.CreatedClient
		format string
	}{{&b.jwt, "jwt"}, {&b.opaque, "opaque"}, {&b.introspector, "jwt"}} {
		cl, secret, err := oa.CreateClient(ctx, by, api.CreateClientRequest{Name: "bench " + c.format,
			APIScopes: map[string][]string{a.ID: {"read"}}, AccessTokenFormat: c.format})
		if err != nil {
			return nil, nil, err
		}
		*c.dst = api.CreatedClient{Client: oauth.ClientView(cl), Secret: secret}
	}
	return b, stop, nil
}

func basic(c api.CreatedClient) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.Client.ID)+":"+url.QueryEscape(c.Secret)))
}

const form = "application/x-www-form-urlencoded"

func tokenTarget(b *bench, c api.CreatedClient) loadgen.Target {
	return loadgen.Target{URL: b.url + "/oauth2/token", Auth: basic(c), ContentType: form,
		Body:       func(_ uint64, buf []byte) []byte { return append(buf, "grant_type=client_credentials&scope=read"...) },
		WantStatus: http.StatusOK, Want: []byte(`"access_token"`)}
}

func runToken(client *http.Client, b *bench, c api.CreatedClient, o options) *loadgen.Result {
	t := tokenTarget(b, c)
	loadgen.Run(client, t, o.c, time.Second, 0) // warm up: connections, caches
	return loadgen.Run(client, t, o.c, o.d, 0)
}

// issue gets n opaque access tokens to introspect.
func issue(client *http.Client, b *bench, n int) ([]string, error) {
	toks := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				req, _ := http.NewRequest(http.MethodPost, b.url+"/oauth2/token", stringsReader("grant_type=client_credentials"))
				req.Header.Set("Content-Type", form)
				req.Header.Set("Authorization", basic(b.opaque))
				res, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				var tr oauth.TokenResponse
				json.NewDecoder(res.Body).Decode(&tr)
				res.Body.Close()
				toks[i] = tr.AccessToken
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return toks, nil
}

func runIntrospect(client *http.Client, b *bench, toks []string, o options) *loadgen.Result {
	t := loadgen.Target{URL: b.url + "/oauth2/introspect", Auth: basic(b.introspector), ContentType: form,
		Body: func(n uint64, buf []byte) []byte {
			buf = append(buf, "token="...)
			return append(buf, toks[n%uint64(len(toks))]...)
		},
		WantStatus: http.StatusOK, Want: []byte(`"active":true`)}
	loadgen.Run(client, t, o.c, 0, uint64(len(toks))) // warm the cache: each token once
	return loadgen.Run(client, t, o.c, o.d, 0)
}

// runBare serves a handler that reads and parses a form body and answers
// a fixed token response, and drives it like the token endpoint.
func runBare(client *http.Client, o options) *loadgen.Result {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	body, _ := json.Marshal(oauth.TokenResponse{AccessToken: "tkat_0123456789012345678901234567890123456789abcdef",
		TokenType: "Bearer", ExpiresIn: 3600, Scope: "read"})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	t := loadgen.Target{URL: "http://" + ln.Addr().String() + "/oauth2/token", Auth: "Basic dW51c2Vk", ContentType: form,
		Body:       func(_ uint64, buf []byte) []byte { return append(buf, "grant_type=client_credentials&scope=read"...) },
		WantStatus: http.StatusOK, Want: []byte(`"access_token"`)}
	loadgen.Run(client, t, o.c, time.Second, 0)
	return loadgen.Run(client, t, o.c, o.d, 0)
}

// ecdsaRate measures the ES256 signature tokend makes (P-256, RFC 6979:
// ecdsa.PrivateKey.Sign with no random source) on GOMAXPROCS goroutines.
func ecdsaRate(d time.Duration) float64 {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("header.payload"))
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := key.Sign(nil, digest[:], crypto.SHA256); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func mark(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

func stringsReader(s string) io.Reader { return &stringReader{s: s} }

type stringReader struct{ s string }

func (r *stringReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}
