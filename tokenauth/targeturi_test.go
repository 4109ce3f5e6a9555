package tokenauth

import (
	"bufio"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
)

// TestTargetURI checks the default Config.TargetURI for a request line in
// origin form and in absolute form (as a client sends it to a proxy).
func TestTargetURI(t *testing.T) {
	for _, c := range []struct {
		name, raw string
		tls       bool
		want      string
	}{
		{"origin form", "GET /a/b?x=1 HTTP/1.1\r\nHost: api.example:8443\r\n\r\n", false, "http://api.example:8443/a/b?x=1"},
		{"origin form over TLS", "GET /a HTTP/1.1\r\nHost: api.example\r\n\r\n", true, "https://api.example/a"},
		{"absolute form", "GET https://api.example/a/b?x=1 HTTP/1.1\r\nHost: api.example\r\n\r\n", false, "https://api.example/a/b?x=1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(c.raw)))
			if err != nil {
				t.Fatal(err)
			}
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := targetURI(r); got != c.want {
				t.Errorf("targetURI = %q, want %q", got, c.want)
			}
		})
	}
}
