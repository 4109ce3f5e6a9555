package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/servertest"
)

// TestGatewayEmptyBearerIsInvalidToken: "Authorization: Bearer" without
// a token, as it goes on the wire, is a malformed credential: 401 with
// error="invalid_token", as tokend and tokenauth answer it, and the
// upstream never sees the request. No header at all is a bare challenge.
func TestGatewayEmptyBearerIsInvalidToken(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	get := func(auth string) (*http.Response, string) {
		if auth == "" {
			return servertest.RawRequest(t, f.url, "GET", "/orders", "Host: gw.example")
		}
		return servertest.RawRequest(t, f.url, "GET", "/orders", "Host: gw.example", "Authorization: "+auth)
	}
	for _, h := range []string{"Bearer", "Bearer ", "Bearer    ", "bearer", "BEARER  "} {
		resp, body := get(h)
		ch := resp.Header.Values("WWW-Authenticate")
		if resp.StatusCode != 401 || len(ch) == 0 || !strings.HasPrefix(ch[0], "Bearer ") ||
			!strings.Contains(ch[0], `error="invalid_token"`) {
			t.Errorf("%q: %d %q %s, want 401 error=\"invalid_token\"", h, resp.StatusCode, ch, body)
		}
	}
	resp, body := get("")
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) == 0 || strings.Contains(strings.Join(ch, " "), "error=") {
		t.Errorf("no Authorization: %d %q %s, want 401 with a bare challenge", resp.StatusCode, ch, body)
	}
	if r := f.upstream.seen(); r != nil {
		t.Errorf("the upstream got %s %s", r.Method, r.URL)
	}
}
