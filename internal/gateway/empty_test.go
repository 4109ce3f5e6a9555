package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGatewayEmptyBearerIsInvalidToken: "Authorization: Bearer" without
// a token, as it goes on the wire, is a malformed credential: 401 with
// error="invalid_token", as tokend and tokenauth answer it, and the
// upstream never sees the request. No header at all is a bare challenge.
func TestGatewayEmptyBearerIsInvalidToken(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	get := func(auth string) (*http.Response, string) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /orders HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n")
		if auth != "" {
			fmt.Fprintf(conn, "Authorization: %s\r\n", auth)
		}
		fmt.Fprintf(conn, "\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
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
