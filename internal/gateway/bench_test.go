package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
)

// BenchmarkGateway serves GET requests with a cached key through the
// gateway's handler (httptest's request and recorder, no client socket)
// to a trivial upstream on 127.0.0.1, beside a bare httputil.ReverseProxy
// with the same connection pool (bench/gatewayload's floor): the
// difference is the gateway's own work per request, the upstream's part
// of it included. cpu-ns/op is the process's CPU time per request; the
// upstream runs in the process too.
func BenchmarkGateway(b *testing.B) {
	tokend := servertest.New(b)
	a, err := tokend.Client.CreateAPI(b.Context(), api.CreateAPIRequest{Name: "Pay", Audience: "https://pay.example",
		Scopes: []string{"read"}, KeyPrefix: "pay"})
	if err != nil {
		b.Fatal(err)
	}
	key, err := tokend.Client.CreateKey(b.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "cust_1", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	_, vkey, err := tokend.Keys.CreateAdminKey(b.Context(), audit.Actor{ID: "bench"}, "gateway", []string{"tokend:verify"})
	if err != nil {
		b.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello, world\n"))
	}))
	b.Cleanup(up.Close)
	auth, err := tokenauth.New(tokenauth.Config{URL: tokend.URL, VerifyKey: vkey, Audience: "https://pay.example", Timeout: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	tab := mustTable(b, `{"routes": [{"name": "all", "path": "/", "upstream": "`+up.URL+`", "audience": "https://pay.example", "scopes": ["read"]}]}`)
	gw, err := gateway.New(gateway.Config{Routes: tab, Auth: auth, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256}, BufferPool: &benchBuffers{}}
	for _, tt := range []struct {
		name string
		h    http.Handler
	}{{"gateway", gw}, {"bare", bare}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			n := 0
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "http://gw.example/hello", nil)
				r.Header.Set("Authorization", "Bearer "+key.Secret)
				r.Header.Set("User-Agent", "wrk")
				w := httptest.NewRecorder()
				tt.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || w.Body.String() != "hello, world\n" {
					b.Fatalf("%d %q", w.Code, w.Body)
				}
				n++
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(n), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBuffers is the bare proxy's pool of copy buffers.
type benchBuffers struct{ p sync.Pool }

func (b *benchBuffers) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *benchBuffers) Put(buf []byte) { b.p.Put(&buf) }
