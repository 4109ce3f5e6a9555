package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// fakeJWT is JWT-shaped; its signature part stands for a secret.
const fakeJWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ"

// TestCredentialInAnyPathShapeIsRefusedAndNeverLogged sends credentials
// embedded in paths in every shape the security review found leaking
// (L1): with a suffix, a prefix, an encoded space, a "Bearer " in front,
// or a colon after. Each is refused with token-in-url, and no log line
// holds the secret part.
func TestCredentialInAnyPathShapeIsRefusedAndNeverLogged(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{})
	tok, adm := k.Secret, f.AdminKey
	paths := []string{
		"/v1/keys/" + tok,
		"/v1/keys/" + tok + ".json",
		"/v1/keys/x" + tok,
		"/v1/keys/" + tok + "%20",
		"/v1/keys/Bearer%20" + tok,
		"/" + adm + ":x",
		"/v1/keys/a-" + tok + "-b/rotate",
		"/v1/keys/" + fakeJWT,
		"/v1/keys/x" + fakeJWT + ".json",
		"/v1/keys/Bearer%20" + fakeJWT,
	}
	for _, p := range paths {
		resp, prob := f.raw(t, "GET", p, "", "", "")
		if resp.StatusCode != http.StatusBadRequest || prob.Code() != api.ErrTokenInURL {
			t.Errorf("GET %.40s…: %d %s, want 400 %s", p, resp.StatusCode, prob.Code(), api.ErrTokenInURL)
		}
	}
	logs := f.Logs.String()
	for _, secret := range []string{tok[len(tok)-49:], adm[len(adm)-49:], "c2VjcmV0LXNpZ25hdHVyZQ"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the secret …%s", secret[len(secret)-8:])
		}
	}
	if n := strings.Count(logs, "(redacted)"); n < len(paths) {
		t.Errorf("%d redacted request lines, want %d; the search above proves nothing", n, len(paths))
	}
}

// TestTokenInQueryAnyShapeIsRefused covers the ways around the query check
// the review found (I5): a token after "Bearer " in any parameter, and
// queries Go cannot parse. Ordinary queries still pass.
func TestTokenInQueryAnyShapeIsRefused(t *testing.T) {
	f := newFixture(t)
	tok := f.key(t, api.CreateKeyRequest{}).Secret
	under := strings.Replace(tok, "_", "%5F", 1)
	tests := []struct {
		query string
		want  int
	}{
		{"q=Bearer%20" + tok, http.StatusBadRequest},
		{"q=Bearer+" + tok, http.StatusBadRequest},
		{"q=" + under, http.StatusBadRequest},
		{"a=1;&token=abc", http.StatusBadRequest},
		{"a=%zz&q=" + under, http.StatusBadRequest},
		{"a=1;b=" + tok + "x", http.StatusBadRequest},
		{"q=" + fakeJWT, http.StatusBadRequest},
		{"limit=5", http.StatusOK},
		{"limit=5&api_id=" + f.api.ID, http.StatusOK},
	}
	for _, tt := range tests {
		resp, prob := f.raw(t, "GET", "/v1/keys?"+tt.query, "", "", "")
		if resp.StatusCode != tt.want || (tt.want == 400 && prob.Code() != api.ErrTokenInURL) {
			t.Errorf("?%.40s: %d %s, want %d", tt.query, resp.StatusCode, prob.Code(), tt.want)
		}
	}
}

// TestClientGoneIsLogged499 cuts a request body short and checks that the
// access log says 499, as docs/api.md and docs/operations.md promise.
func TestClientGoneIsLogged499(t *testing.T) {
	f := newFixture(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"api_id\":", f.AdminKey)
	conn.(*net.TCPConn).CloseWrite()
	bufio.NewReader(conn).ReadString('\n') // the server answers or closes
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(f.Logs.String(), `"path":"/v1/keys","route":"POST /v1/keys","status":499`) {
		if time.Now().After(deadline) {
			t.Fatalf("no request line with status 499 in the log:\n%s", f.Logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
