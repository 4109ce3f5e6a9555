package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/jsonlog"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// benchServer wires the handler as "tokend serve" does, with the access
// log as JSON at info level to io.Discard, and returns it with the two
// hot requests of bench/wrkload: a verification of a cached key and a
// client_credentials token request for an ES256 JWT.
func benchServer(b *testing.B) (h http.Handler, verifyReq, tokenReq func() *http.Request) {
	b.Helper()
	ctx := context.Background()
	log := slog.New(jsonlog.New(io.Discard, slog.LevelInfo)) // as tokend serve --log-format json
	db, err := store.Open(ctx, b.TempDir()+"/tokend.db", store.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const issuer = "http://127.0.0.1:8080"
	sg, err := signer.New(ctx, signer.Config{DB: db, KEK: make([]byte, signer.KEKSize), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	engine := verify.New(verify.Config{DB: db, Metrics: verify.NewMetrics(reg), Logger: log,
		JWT: &verify.JWTConfig{Signer: sg, Issuer: issuer}})
	keys := apikey.NewService(apikey.Config{DB: db, Logger: log})
	if err := keys.EnsureSystemAPI(ctx); err != nil {
		b.Fatal(err)
	}
	oa, err := oauth.New(oauth.Config{DB: db, Signer: sg, Verifier: engine, Issuer: issuer, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	by := audit.Actor{ID: "bench"}
	a, err := keys.CreateAPI(ctx, by, api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := keys.CreateKey(ctx, by, api.CreateKeyRequest{APIID: a.ID, Subject: "user_1", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	_, verifier, err := keys.CreateAdminKey(ctx, by, "verifier", []string{apikey.ScopeVerify})
	if err != nil {
		b.Fatal(err)
	}
	c, secret, err := oa.CreateClient(ctx, by, api.CreateClientRequest{Name: "bench", AccessTokenFormat: "jwt",
		APIScopes: map[string][]string{a.ID: {"read"}}})
	if err != nil {
		b.Fatal(err)
	}
	h = server.New(server.Config{DB: db, Keys: keys, Engine: engine, Signer: sg, OAuth: oa, Gatherer: reg, Logger: log}).Handler()
	verifyBody := `{"token":"` + key + `"}`
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(secret)))
	verifyReq = func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/verify", strings.NewReader(verifyBody))
		r.Header.Set("Authorization", "Bearer "+verifier)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	tokenReq = func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=read"))
		r.Header.Set("Authorization", basic)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	return h, verifyReq, tokenReq
}

// processCPU returns the CPU time the process has used: on a busy
// machine it is a steadier measure than ns/op, which counts the time
// other processes held the cores.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareHandler answers the two requests as bench/wrkload's bare process
// does: it reads the body as tokend must (strict JSON, a parsed form) and
// answers a fixed small JSON. Beside tokend it is the floor of the
// handler's cost.
func bareHandler() http.Handler {
	verifyAnswer := []byte(`{"valid":true,"code":"VALID"}`)
	tokenAnswer := []byte(`{"access_token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","expires_in":3600,"scope":"read","token_type":"Bearer"}`)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/verify", func(w http.ResponseWriter, r *http.Request) {
		var req api.VerifyRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Token == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(verifyAnswer)
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(tokenAnswer)
	})
	return mux
}

// BenchmarkHandler measures the handler alone (middleware, access log,
// decoding, the work, encoding) for the two requests bench/wrkload
// drives over HTTP, beside the bare handler given the same requests
// (verify-bare, token-bare) and the ES256 signature alone (es256-sign,
// crypto/ecdsa with crypto/rand, as every token needs); want is a
// fragment of a good answer. Compare allocs/op and cpu-ns/op within one
// run: on a shared machine ns/op also counts other processes.
func BenchmarkHandler(b *testing.B) {
	h, verifyReq, tokenReq := benchServer(b)
	bare := bareHandler()
	b.Run("es256-sign", func(b *testing.B) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256([]byte("eyJhbGciOiJFUzI1NiJ9.e30"))
		b.ReportAllocs()
		cpu0 := processCPU(b)
		n := 0
		for b.Loop() {
			if _, err := key.Sign(nil, digest[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(processCPU(b)-cpu0)/float64(n), "cpu-ns/op")
	})
	for _, tt := range []struct {
		name string
		h    http.Handler
		req  func() *http.Request
		want string
	}{
		{"verify", h, verifyReq, `"valid":true`}, {"verify-bare", bare, verifyReq, `"valid":true`},
		{"token", h, tokenReq, `"access_token":"eyJ`}, {"token-bare", bare, tokenReq, `"access_token":"eyJ`},
	} {
		h := tt.h
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			n := 0
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, tt.req())
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), tt.want) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				n++
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(n), "cpu-ns/op")
		})
	}
}
