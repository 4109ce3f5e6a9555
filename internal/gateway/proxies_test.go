package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/tokenauth"
)

// trustingGateway serves f's routes through a second gateway that trusts
// the proxies in cidrs, as `tokend gateway --trusted-proxies` wires it,
// and returns its URL.
func trustingGateway(t *testing.T, f *fixture, cidrs string) string {
	t.Helper()
	trusted, err := clientip.ParsePrefixes(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	ips := clientip.New(trusted)
	return f.another(t, func(tc *tokenauth.Config, gc *gateway.Config) {
		tc.ClientIP, gc.ClientIPs = ips.IP, ips
	})
}

// another serves f's routes through a second gateway configured by edit,
// and returns its URL.
func (f *fixture) another(t *testing.T, edit func(*tokenauth.Config, *gateway.Config)) string {
	t.Helper()
	tc := tokenauth.Config{URL: f.tokend.URL, VerifyKey: f.vkey, Audience: "https://pay.example", Timeout: 2 * time.Second}
	gc := gateway.Config{Routes: mustTable(t, routesFor(f.upURL)), UpstreamTimeout: 5 * time.Second}
	edit(&tc, &gc)
	auth, err := tokenauth.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	gc.Auth = auth
	gw, err := gateway.New(gc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestGatewayTrustedProxies: behind a trusted proxy the client is the
// address the proxy forwards: a key allowed only from 203.0.113.0/24
// passes, the proxy's X-Forwarded-For chain reaches the upstream with the
// proxy appended, and its -Host and -Proto are kept. A client cannot
// name itself by writing an entry to the left, and a gateway that trusts
// no proxy ignores the headers.
func TestGatewayTrustedProxies(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	k, err := f.tokend.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: f.apiID, Subject: "cust_2",
		Scopes: []string{"read"}, AllowedCIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	trusting := trustingGateway(t, f, "127.0.0.0/8")
	fromProxy := http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.9"},
		"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example"}}
	for _, tt := range []struct {
		name   string
		gw     string
		token  string
		h      http.Header
		status int
		xff    string // what the upstream sees, when the request passes
		proto  string
	}{
		{"trusted proxy names the client", trusting, k.Secret, fromProxy, 200, "198.51.100.1, 203.0.113.9, 127.0.0.1", "https"},
		{"client-written entry left of the proxy's is not the client", trusting, k.Secret,
			http.Header{"X-Forwarded-For": {"203.0.113.9, 198.51.100.1"}}, 401, "", ""},
		{"untrusting gateway: the peer is the client", f.url, k.Secret, fromProxy, 401, "", ""},
		{"untrusting gateway drops the client's forwarding headers", f.url, f.read, fromProxy, 200, "127.0.0.1", "http"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := &fixture{url: tt.gw}
			resp, body := g.get(t, "/invoices", tt.token, tt.h)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status != 200 {
				return
			}
			up := f.upstream.seen()
			if got := up.Header.Get("X-Forwarded-For"); got != tt.xff {
				t.Errorf("upstream X-Forwarded-For %q, want %q", got, tt.xff)
			}
			if got := up.Header.Get("X-Forwarded-Proto"); got != tt.proto {
				t.Errorf("upstream X-Forwarded-Proto %q, want %q", got, tt.proto)
			}
			wantHost := "api.example"
			if tt.gw == f.url {
				wantHost = up.Header.Get("X-Forwarded-Host") // the gateway's own, checked below
				if wantHost == "api.example" {
					t.Errorf("untrusting gateway passed on the client's X-Forwarded-Host")
				}
			}
			if got := up.Header.Get("X-Forwarded-Host"); got != wantHost {
				t.Errorf("upstream X-Forwarded-Host %q, want %q", got, wantHost)
			}
		})
	}
}
