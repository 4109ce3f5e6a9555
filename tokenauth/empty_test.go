package tokenauth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/servertest"
)

// TestEmptyBearerIsInvalidToken: "Authorization: Bearer" without a token,
// as it goes on the wire (with or without trailing spaces, which a Go
// client would trim itself), is a malformed credential: 401 with
// error="invalid_token", as tokend's own endpoints answer it, refused
// here without asking tokend. No header at all is a bare challenge.
func TestEmptyBearerIsInvalidToken(t *testing.T) {
	e := newEnv(t, nil)
	get := func(auth string) (*http.Response, string) {
		if auth == "" {
			return servertest.RawRequest(t, e.rs.URL, "GET", "/invoices")
		}
		return servertest.RawRequest(t, e.rs.URL, "GET", "/invoices", "Authorization: "+auth)
	}
	for _, h := range []string{"Bearer", "Bearer ", "Bearer    ", "bearer", "BEARER  "} {
		resp, body := get(h)
		ch := resp.Header.Values("WWW-Authenticate")
		if resp.StatusCode != 401 || len(ch) == 0 || !strings.HasPrefix(ch[0], "Bearer ") ||
			!strings.Contains(ch[0], `error="invalid_token"`) || !strings.Contains(body, `"invalid_token"`) {
			t.Errorf("%q: %d %q %s, want 401 error=\"invalid_token\"", h, resp.StatusCode, ch, body)
		}
	}
	resp, body := get("")
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) == 0 || strings.Contains(strings.Join(ch, " "), "error=") {
		t.Errorf("no Authorization: %d %q %s, want 401 with a bare challenge", resp.StatusCode, ch, body)
	}
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("tokend was asked %d times, want 0", n)
	}
}
