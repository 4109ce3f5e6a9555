package tokenauth_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// signedEnv is env with an API that requires signed requests, a key with
// an hmac-sha256 signing key, and a route that echoes the body it got.
type signedEnv struct {
	*env
	token  string
	signer *client.RequestSigner
	echo   *httptest.Server
}

func newSignedEnv(t *testing.T) *signedEnv {
	t.Helper()
	e := newEnv(t, nil)
	p := e.api.Policy
	p.RequireSignedRequests = true
	if _, err := e.Client.UpdateAPI(t.Context(), e.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	k := e.key(t, func(r *api.CreateKeyRequest) {
		r.Scopes = []string{"invoices:write"}
		r.Signing = &api.KeySigningRequest{Alg: api.SigHMACSHA256}
	})
	secret, _ := base64.StdEncoding.DecodeString(k.SigningSecret)
	s := &signedEnv{env: e, token: k.Secret,
		signer: &client.RequestSigner{KeyID: k.Key.ID, Alg: api.SigHMACSHA256, Secret: secret, Now: e.Clock.Now}}
	s.echo = httptest.NewServer(e.auth.Require("invoices:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})))
	t.Cleanup(s.echo.Close)
	return s
}

// send signs a POST of body to path (unless sign is false), lets change
// tamper with it, and sends it.
func (s *signedEnv) send(t *testing.T, path, body string, sign bool, change func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequest("POST", s.echo.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer(s.token))
	if sign {
		if err := s.signer.Sign(req); err != nil {
			t.Fatal(err)
		}
	}
	if change != nil {
		change(req)
	}
	return s.do(t, req)
}

func (s *signedEnv) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, strings.TrimSpace(string(b))}
}

func TestSignedRequestsThroughTokenauth(t *testing.T) {
	s := newSignedEnv(t)
	body := `{"amount":100}`
	before := s.calls.calls("/v1/verify")
	for i := range 2 {
		if a := s.send(t, "/v1/charges?x=1", body, true, nil); a.status != http.StatusOK || a.body != body {
			t.Fatalf("signed request %d = %d %q, want 200 and the body echoed", i, a.status, a.body)
		}
	}
	if n := s.calls.calls("/v1/verify") - before; n != 2 {
		t.Errorf("two signed requests asked tokend %d times, want 2 (answers of signed requests are not cached)", n)
	}
	cases := []struct {
		name   string
		sign   bool
		change func(*http.Request)
		want   string
	}{
		{"unsigned", false, nil, "requires signed requests"},
		{"changed body, old digest", true, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(`{"amount":999}`)), 14
		}, "the body does not match Content-Digest sha-256"},
		{"body removed, digest kept", true, func(r *http.Request) {
			r.Body, r.ContentLength = http.NoBody, 0
		}, "the body does not match Content-Digest sha-256"},
		{"changed path", true, func(r *http.Request) { r.URL.Path = "/v1/refunds" }, "does not verify"},
		{"wrong signature", true, func(r *http.Request) {
			r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+":")
		}, "does not verify"},
		{"content-digest not covered", true, func(r *http.Request) {
			in := r.Header.Get("Signature-Input")
			r.Header.Set("Signature-Input", strings.Replace(in, ` "content-digest"`, "", 1))
		}, "does not cover content-digest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := s.send(t, "/v1/charges", body, c.sign, c.change)
			wa := a.header.Get("WWW-Authenticate")
			if a.status != http.StatusUnauthorized || !strings.Contains(wa, `error="invalid_signature"`) || !strings.Contains(wa, c.want) {
				t.Errorf("answer = %d, WWW-Authenticate %q; want 401 invalid_signature mentioning %q", a.status, wa, c.want)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.echo.URL+"/v1/charges", strings.NewReader(body))
		req.Header.Set("Authorization", bearer(s.token))
		s.signer.Sign(req)
		again := req.Clone(t.Context())
		again.Body, _ = req.GetBody()
		if a := s.do(t, req); a.status != http.StatusOK {
			t.Fatalf("first = %d %s", a.status, a.body)
		}
		a := s.do(t, again)
		if wa := a.header.Get("WWW-Authenticate"); a.status != http.StatusUnauthorized || !strings.Contains(wa, "replay") {
			t.Errorf("replay = %d %q, want 401 naming a replay", a.status, wa)
		}
	})
}
