package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/tokenauth"
)

// digestUpstream is an API behind nginx forward-auth that closes what
// forward-auth cannot check: nginx sends tokend no body, so the upstream
// refuses a body without a Content-Digest, or one that does not match it,
// with tokenauth.RequireContentDigest (400), as docs/signed-requests.md
// tells upstreams to. tokend has already checked that the signature
// covers Content-Digest whenever the request carries one.
type digestUpstream struct{ got []byte }

func (u *digestUpstream) handler() http.Handler {
	return tokenauth.RequireContentDigest(1<<20, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.got, _ = io.ReadAll(r.Body)
		io.WriteString(w, "upstream "+r.Header.Get("Tokend-Subject"))
	}))
}

// TestNginxSignedRequests: RFC 9421 signed requests through a real
// nginx auth_request to a real tokend, on an API that requires them. A
// request signed with client.RequestSigner passes with its body; a
// changed path, a changed body with a recomputed digest, a reused nonce
// and a missing signature are refused by tokend with 401
// invalid_signature. nginx sends tokend no body, so a changed body under
// the old digest, or a body added to a request signed without one, is
// not seen by tokend, nor is a body removed under its digest: the
// upstream's tokenauth.RequireContentDigest refuses them (400), as
// docs/signed-requests.md says it must.
func TestNginxSignedRequests(t *testing.T) {
	nginxBinary(t)
	dir := t.TempDir()
	url, admin, _, _ := startServe(t, dir)
	cl, err := client.New(client.Config{URL: url, Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a, err := cl.CreateAPI(ctx, api.CreateAPIRequest{Name: "Orders", Audience: "orders", Scopes: []string{"orders:read"},
		KeyPrefix: "ord", Policy: api.Policy{RequireSignedRequests: true}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := cl.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "cust_1", Scopes: []string{"orders:read"},
		Signing: &api.KeySigningRequest{Alg: api.SigHMACSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := base64.StdEncoding.DecodeString(k.SigningSecret)
	if err != nil {
		t.Fatal(err)
	}
	vkey := strings.TrimSpace(cli(t, "", "", 0, "admin-key", "create", "--data-dir", dir, "--scopes", "tokend:verify"))
	up := &digestUpstream{}
	upstream := httptest.NewServer(up.handler())
	t.Cleanup(upstream.Close)
	proxy := startNginx(t, map[string]string{"upstream": upstream.URL, "tokend": url, "verifykey": vkey})
	signer := &client.RequestSigner{KeyID: k.Key.ID, Alg: api.SigHMACSHA256, Secret: secret}

	// signed is a POST of body to path, signed; edit may change it after.
	signed := func(path, body string, edit func(*http.Request)) *http.Request {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "POST", proxy+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+k.Secret)
		req.Header.Set("Content-Type", "application/json")
		if err := signer.Sign(req); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(req)
		}
		return req
	}
	send := func(req *http.Request) (int, string, string) {
		t.Helper()
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}
	setBody := func(body string) func(*http.Request) {
		return func(r *http.Request) {
			b := []byte(body)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
	}

	good := signed("/orders/42?page=1", `{"qty":1}`, nil)
	if code, _, body := send(good); code != 200 || body != "upstream cust_1" || string(up.got) != `{"qty":1}` {
		t.Fatalf("signed request: %d %q, upstream got %q; want 200 with the body", code, body, up.got)
	}
	if code, challenge, _ := send(good); code != 401 || !strings.Contains(challenge, `error="invalid_signature"`) {
		t.Errorf("the same signed request again (reused nonce): %d %q; want 401 invalid_signature", code, challenge)
	}
	for _, c := range []struct {
		name string
		req  *http.Request
	}{
		{"changed path", signed("/orders/42", `{"qty":1}`, func(r *http.Request) { r.URL.Path = "/orders/43" })},
		{"changed query", signed("/orders/42?page=1", `{"qty":1}`, func(r *http.Request) { r.URL.RawQuery = "page=2" })},
		{"changed method", signed("/orders/42", `{"qty":1}`, func(r *http.Request) { r.Method = "PUT" })},
		{"changed body, digest recomputed", signed("/orders/42", `{"qty":1}`, func(r *http.Request) {
			setBody(`{"qty":1000}`)(r)
			sum := sha256.Sum256([]byte(`{"qty":1000}`))
			r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		})},
		{"truncated signature", signed("/orders/42", `{"qty":1}`, func(r *http.Request) {
			r.Header.Set("Signature", r.Header.Get("Signature")[:20]+":")
		})},
		{"no signature", signed("/orders/42", `{"qty":1}`, func(r *http.Request) {
			r.Header.Del("Signature")
			r.Header.Del("Signature-Input")
		})},
	} {
		if code, challenge, _ := send(c.req); code != 401 || !strings.Contains(challenge, `error="invalid_signature"`) {
			t.Errorf("%s: %d %q; want 401 invalid_signature from tokend", c.name, code, challenge)
		}
	}

	// What forward-auth cannot see: the body. tokend passes these (the
	// signature holds over what it is shown), and the upstream refuses.
	up.got = nil
	for _, c := range []struct {
		name string
		req  *http.Request
		want string
	}{
		{"changed body, old digest", signed("/orders/42", `{"qty":1}`, setBody(`{"qty":1000}`)),
			"the body does not match Content-Digest sha-256"},
		{"body added to a request signed without one", signed("/orders/42", "", setBody(`{"qty":1000}`)),
			"the request has a body but no Content-Digest field"},
		{"body removed, digest kept", signed("/orders/42", `{"qty":1}`, setBody("")),
			"the body does not match Content-Digest sha-256"},
	} {
		if code, _, body := send(c.req); code != 400 || !strings.Contains(body, `"error":"invalid_request"`) || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %q; want the upstream's 400 invalid_request saying %q", c.name, code, body, c.want)
		}
	}
	if up.got != nil {
		t.Errorf("the upstream accepted a changed body: %q", up.got)
	}
}
