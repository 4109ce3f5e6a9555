package gateway_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestGatewaySignedRequests: with an API that requires signed requests, the
// gateway passes a request signed (RFC 9421) by the key's Ed25519 key and
// refuses, before the upstream, one whose body or path changed after
// signing, a replay and an unsigned one, each with a 401 naming why.
func TestGatewaySignedRequests(t *testing.T) {
	f := newFixture(t, 0)
	ctx := t.Context()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	jwk, _ := json.Marshal(map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64url(pub)})
	k, err := f.tokend.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.apiID, Subject: "cust_1", Scopes: []string{"read"},
		Signing: &api.KeySigningRequest{Alg: api.SigEd25519, PublicJWK: jwk}})
	if err != nil {
		t.Fatal(err)
	}
	pol := api.Policy{RequireSignedRequests: true}
	if _, err := f.tokend.Client.UpdateAPI(ctx, f.apiID, api.UpdateAPIRequest{Policy: &pol}); err != nil {
		t.Fatal(err)
	}
	s := &client.RequestSigner{KeyID: k.Key.ID, Alg: api.SigEd25519, PrivateKey: priv, Now: f.tokend.Clock.Now}
	send := func(path, body string, sign bool, change func(*http.Request)) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", f.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+k.Secret)
		if sign {
			if err := s.Sign(req); err != nil {
				t.Fatal(err)
			}
		}
		if change != nil {
			change(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := send("/orders?id=7", `{"qty":1}`, true, nil); resp.StatusCode != http.StatusOK || body != "upstream POST /orders" {
		t.Fatalf("signed request = %d %q, want the upstream's answer", resp.StatusCode, body)
	}
	f.upstream.mu.Lock()
	f.upstream.last = nil
	f.upstream.mu.Unlock()
	var replay *http.Request
	for _, c := range []struct {
		name   string
		sign   bool
		change func(*http.Request)
		want   string
	}{
		{"unsigned", false, nil, "requires signed requests"},
		{"changed body", true, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(`{"qty":9}`)), 9
		}, "does not match Content-Digest"},
		{"changed path", true, func(r *http.Request) { r.URL.Path = "/refunds" }, "does not verify"},
		{"replay", true, func(r *http.Request) {
			if replay == nil {
				replay = r.Clone(r.Context())
				replay.Body, _ = r.GetBody()
				resp, err := http.DefaultClient.Do(replay)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("first send = %v, %v", resp, err)
				}
				resp.Body.Close()
				f.upstream.mu.Lock()
				f.upstream.last = nil
				f.upstream.mu.Unlock()
			}
		}, "replay"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := send("/orders", `{"qty":1}`, c.sign, c.change)
			wa := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(wa, `error="invalid_signature"`) || !strings.Contains(wa, c.want) {
				t.Errorf("answer = %d %q, want 401 invalid_signature mentioning %q", resp.StatusCode, wa, c.want)
			}
			if r := f.upstream.seen(); r != nil {
				t.Errorf("the upstream got %s %s", r.Method, r.URL.Path)
			}
		})
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
