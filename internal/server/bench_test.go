package server_test

import (
	"context"
	"encoding/base64"
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
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
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

// BenchmarkHandler measures the handler alone (middleware, access log,
// decoding, the work, encoding) for the two requests bench/wrkload
// drives over HTTP; want is a fragment of a good answer.
func BenchmarkHandler(b *testing.B) {
	h, verifyReq, tokenReq := benchServer(b)
	for _, tt := range []struct {
		name string
		req  func() *http.Request
		want string
	}{{"verify", verifyReq, `"valid":true`}, {"token", tokenReq, `"access_token":"eyJ`}} {
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
