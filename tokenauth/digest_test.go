package tokenauth_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/tokenauth"
)

func sha256Digest(body string) string {
	s := sha256.Sum256([]byte(body))
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

func sha512Digest(body string) string {
	s := sha512.Sum512([]byte(body))
	return "sha-512=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

// TestRequireContentDigest runs RequireContentDigest in a real HTTP
// server: what passes reaches the handler with its body whole, what does
// not is 400 (413 when too large) invalid_request naming the problem,
// and never reaches it. The verdicts on Content-Digest agree with
// tokend's own check (internal/httpsig, an RFC 8941 parser), so that the
// upstream and tokend read the field alike.
func TestRequireContentDigest(t *testing.T) {
	var got []string
	srv := httptest.NewServer(tokenauth.RequireContentDigest(64, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler read: %v", err)
		}
		got = append(got, string(b))
	})))
	t.Cleanup(srv.Close)
	const body = `{"qty":1}`
	const sig = `sig1=("@method" "@target-uri" "content-digest");created=1;nonce="n";keyid="key_1"`
	cases := []struct {
		name           string
		body           string
		digest         []string
		signed         bool
		status         int
		want           string // in error_description
		httpsigRefuses bool   // the verdict of httpsig.CheckDigest, when a digest is there
	}{
		{name: "sha-256", body: body, digest: []string{sha256Digest(body)}, signed: true, status: 200},
		{name: "sha-512", body: body, digest: []string{sha512Digest(body)}, signed: true, status: 200},
		{name: "both, in two fields", body: body, digest: []string{sha512Digest(body), sha256Digest(body)}, signed: true, status: 200},
		{name: "unknown algorithm beside sha-256", body: body, digest: []string{"md5=:AAAA:, " + sha256Digest(body)}, signed: true, status: 200},
		{name: "unsigned, no digest", body: body, status: 200},
		{name: "signed, no body", signed: true, status: 200},
		{name: "signed, empty body, digest of empty", digest: []string{sha256Digest("")}, signed: true, status: 200},
		{name: "changed body", body: `{"qty":1000}`, digest: []string{sha256Digest(body)}, signed: true,
			status: 400, want: "the body does not match Content-Digest sha-256", httpsigRefuses: true},
		{name: "one of two members wrong", body: body, digest: []string{sha256Digest(body) + ", " + sha512Digest("x")}, signed: true,
			status: 400, want: "the body does not match Content-Digest sha-512", httpsigRefuses: true},
		{name: "body removed in transit", digest: []string{sha256Digest(body)}, signed: true,
			status: 400, want: "the body does not match Content-Digest sha-256", httpsigRefuses: true},
		{name: "unsigned, wrong digest", body: `{"qty":1000}`, digest: []string{sha256Digest(body)},
			status: 400, want: "the body does not match", httpsigRefuses: true},
		{name: "signed body without digest", body: body, signed: true, status: 400, want: "the request has a body but no Content-Digest field"},
		{name: "not a byte sequence", body: body, digest: []string{"sha-256=abc"}, signed: true,
			status: 400, want: "is not a byte sequence", httpsigRefuses: true},
		{name: "bad base64", body: body, digest: []string{"sha-256=:!!!:"}, signed: true,
			status: 400, want: "is not a byte sequence", httpsigRefuses: true},
		{name: "no known algorithm", body: body, digest: []string{"md5=:AAAA:"}, signed: true,
			status: 400, want: "has no sha-256 or sha-512 member", httpsigRefuses: true},
		{name: "too large", body: strings.Repeat("a", 65), digest: []string{sha256Digest(strings.Repeat("a", 65))}, signed: true,
			status: 413, want: "larger than the 64 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got = nil
			req, err := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body == "" {
				req.Body = http.NoBody
			}
			for _, d := range c.digest {
				req.Header.Add("Content-Digest", d)
			}
			if c.signed {
				req.Header.Set("Signature-Input", sig)
				req.Header.Set("Signature", "sig1=:AAAA:")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d %s; want %d", resp.StatusCode, raw, c.status)
			}
			if c.status == 200 {
				if len(got) != 1 || got[0] != c.body {
					t.Errorf("handler got %q; want the body %q once", got, c.body)
				}
			} else {
				if err := json.Unmarshal(raw, &e); err != nil || e.Error != "invalid_request" || !strings.Contains(e.Description, c.want) ||
					resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("answer %s (%v), %v; want invalid_request mentioning %q, JSON, no-store", raw, err, resp.Header, c.want)
				}
				if got != nil {
					t.Errorf("a refused request reached the handler with %q", got)
				}
			}
			if c.digest != nil && c.status != 413 {
				m := &httpsig.Message{Header: map[string][]string{"Content-Digest": c.digest}}
				if err := httpsig.CheckDigest(m, []byte(c.body)); (err != nil) != c.httpsigRefuses {
					t.Errorf("httpsig.CheckDigest = %v; want refused %v, as RequireContentDigest", err, c.httpsigRefuses)
				}
			}
		})
	}
}

// TestCheckContentDigestLeavesUnsignedUnread: an unsigned request
// without Content-Digest is not read (its body may stream to the
// handler, whatever its size), and a body over the limit given by
// http.MaxBytesReader is 413 too.
func TestCheckContentDigestLeavesUnsignedUnread(t *testing.T) {
	r := httptest.NewRequest("POST", "/upload", io.MultiReader(strings.NewReader("x"), errReader{}))
	if err := tokenauth.CheckContentDigest(r, 1); err != nil {
		t.Fatalf("CheckContentDigest(unsigned) = %v; want nil without reading", err)
	}
	r = httptest.NewRequest("POST", "/upload", strings.NewReader(strings.Repeat("a", 100)))
	r.Header.Set("Content-Digest", sha256Digest(strings.Repeat("a", 100)))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
	err := tokenauth.CheckContentDigest(r, 0)
	if e, ok := errors.AsType[*tokenauth.Error](err); !ok || e.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("CheckContentDigest(over MaxBytesReader) = %v; want 413", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("the body was read") }
