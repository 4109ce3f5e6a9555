package gateway_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// dpopJWT gets a JWT access token of the Pay API bound to key.
func (f *fixture) dpopJWT(t *testing.T, key *dpop.Key) string {
	t.Helper()
	ttl := api.Duration(time.Hour)
	c, err := f.tokend.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: "dpop", AccessTokenFormat: "jwt",
		APIScopes: map[string][]string{f.apiID: {"read"}}, AccessTokenTTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: f.tokend.URL + "/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader}
	hc, _ := servertest.DPoPClient(key)
	tok, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, hc))
	if err != nil || tok.TokenType != "DPoP" {
		t.Fatalf("DPoP token: %v %v", tok, err)
	}
	return tok.AccessToken
}

// dpopGet sends GET base+path with Authorization auth and the proofs.
func dpopGet(t *testing.T, base, path, auth string, proofs ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func proof(t *testing.T, k *dpop.Key, method, u, token, nonce string) string {
	t.Helper()
	p, err := k.Proof(method, u, token, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// privateJWKProof is a well-signed ES256 proof whose jwk holds the
// private key (d).
func privateJWKProof(t *testing.T, method, u, token string, now time.Time) string {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jb, _ := (&jose.JSONWebKey{Key: priv}).MarshalJSON()
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": json.RawMessage(jb)})
	c, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": now.Unix(),
		"ath": dpop.AccessTokenHash(token)})
	enc := base64.RawURLEncoding.EncodeToString
	input := enc(h) + "." + enc(c)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
}

// checkChallenge: status 401 with the error code in the first challenge,
// of scheme, and the DPoP challenge with its algs among the two.
func checkChallenge(t *testing.T, name string, resp *http.Response, body, scheme, code string) {
	t.Helper()
	ch := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != 401 || len(ch) != 2 || !strings.HasPrefix(ch[0], scheme+" ") ||
		!strings.Contains(ch[0], `error="`+code+`"`) || !strings.Contains(strings.Join(ch, "\n"), `algs="ES256 EdDSA Ed25519 RS256 PS256"`) ||
		!strings.Contains(body, `"error":"`+code+`"`) {
		t.Errorf("%s: %d %q %s; want 401 %s error=%q", name, resp.StatusCode, ch, body, scheme, code)
	}
}

// TestGatewayDPoP: the gateway lets a DPoP-bound JWT (checked here) and
// a DPoP-bound API key (relayed to tokend) through only with a proof of
// their key for the request as the client addressed it, and refuses
// every bad one with RFC 9449's challenge, forwarding nothing. The
// upstream sees neither the token nor the proof.
func TestGatewayDPoP(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	gw := f.another(t, func(tc *tokenauth.Config, _ *gateway.Config) { tc.Now = f.tokend.Clock.Now })
	key := f.tokend.NewDPoPKey(t)
	jwt := f.dpopJWT(t, key)
	ck, err := f.tokend.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: f.apiID, Subject: "cust_dpop",
		Scopes: []string{"read"}, DPoPJWK: key.PublicJWK()})
	if err != nil {
		t.Fatal(err)
	}
	u := gw + "/orders/1"
	nonce := f.tokend.DPoP.Nonce() // tokend requires its nonce in proofs of keys it checks
	for _, tc := range []struct{ name, tok, nonce string }{{"jwt", jwt, ""}, {"api key", ck.Secret, nonce}} {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.tok
			good := func() string { return proof(t, key, "GET", u, tok, tc.nonce) }
			once := good()
			resp, body := dpopGet(t, gw, "/orders/1?x=1", "DPoP "+tok, once)
			if resp.StatusCode != 200 || body != "upstream GET /orders/1" {
				t.Fatalf("good proof: %d %s", resp.StatusCode, body)
			}
			r := f.upstream.seen()
			if r.Header.Get("Authorization") != "" || r.Header.Get("DPoP") != "" || r.Header.Get("Tokend-Subject") == "" {
				t.Errorf("upstream saw Authorization %q, DPoP %q, subject %q", r.Header.Get("Authorization"),
					r.Header.Get("DPoP"), r.Header.Get("Tokend-Subject"))
			}
			f.upstream.mu.Lock()
			f.upstream.last = nil
			f.upstream.mu.Unlock()
			bad := []struct {
				name, auth string
				proofs     []string
				scheme     string
				code       string
			}{
				{"bound token as bearer", "Bearer " + tok, nil, "Bearer", tokenauth.ErrInvalidToken},
				{"DPoP scheme without a proof", "DPoP " + tok, nil, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"proof for POST", "DPoP " + tok, []string{proof(t, key, "POST", u, tok, tc.nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"proof for another URL", "DPoP " + tok, []string{proof(t, key, "GET", gw+"/admin", tok, tc.nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"wrong ath", "DPoP " + tok, []string{proof(t, key, "GET", u, f.read, tc.nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"replayed jti", "DPoP " + tok, []string{once}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"private key in jwk", "DPoP " + tok, []string{privateJWKProof(t, "GET", u, tok, f.tokend.Clock.Now())}, "DPoP", tokenauth.ErrInvalidDPoPProof},
			}
			for _, b := range bad {
				resp, body := dpopGet(t, gw, "/orders/1", b.auth, b.proofs...)
				checkChallenge(t, b.name, resp, body, b.scheme, b.code)
			}
			if f.upstream.seen() != nil {
				t.Error("a refused request reached the upstream")
			}
		})
	}
	// tokend's nonce: a stale one gets use_dpop_nonce and a fresh one.
	resp, body := dpopGet(t, gw, "/orders/1", "DPoP "+ck.Secret, proof(t, key, "GET", u, ck.Secret, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	checkChallenge(t, "stale nonce", resp, body, "DPoP", tokenauth.ErrUseDPoPNonce)
	if resp.Header.Get("DPoP-Nonce") != nonce {
		t.Errorf("stale nonce: DPoP-Nonce %q, want tokend's %q", resp.Header.Get("DPoP-Nonce"), nonce)
	}
}

// TestGatewayDPoPNoncesAndReplayAcrossGateways: two gateways behind one
// public URL share a nonce secret and a replay cache in Redis: a proof
// one accepted is a replay at the other, and a proof with a stale nonce
// gets use_dpop_nonce with a fresh DPoP-Nonce that both accept.
func TestGatewayDPoPNoncesAndReplayAcrossGateways(t *testing.T) {
	redisURL := os.Getenv("TOKEND_TEST_REDIS")
	if redisURL == "" {
		t.Skip("needs TOKEND_TEST_REDIS")
	}
	f := newFixture(t, 5*time.Second)
	const public = "https://api.pay.example"
	secret := []byte("gateway dpop nonce secret, 32 b!")
	gateways := make([]string, 2)
	for i := range gateways {
		shared, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: redisURL, Prefix: "gateway-test:" + f.apiID + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shared.Close() })
		gateways[i] = f.another(t, func(tc *tokenauth.Config, _ *gateway.Config) {
			tc.Now, tc.PublicURL, tc.DPoPReplay, tc.DPoPNonceSecret = f.tokend.Clock.Now, public, shared, secret
		})
	}
	key := f.tokend.NewDPoPKey(t)
	jwt := f.dpopJWT(t, key)
	u := public + "/orders/1"
	resp, body := dpopGet(t, gateways[0], "/orders/1", "DPoP "+jwt, proof(t, key, "GET", u, jwt, ""))
	checkChallenge(t, "no nonce", resp, body, "DPoP", tokenauth.ErrUseDPoPNonce)
	nonce := resp.Header.Get("DPoP-Nonce")
	once := proof(t, key, "GET", u, jwt, nonce)
	if resp, body := dpopGet(t, gateways[0], "/orders/1", "DPoP "+jwt, once); resp.StatusCode != 200 {
		t.Fatalf("gateway A with its nonce: %d %s", resp.StatusCode, body)
	}
	resp, body = dpopGet(t, gateways[1], "/orders/1", "DPoP "+jwt, once)
	checkChallenge(t, "the proof replayed to gateway B", resp, body, "DPoP", tokenauth.ErrInvalidDPoPProof)
	if resp, body := dpopGet(t, gateways[1], "/orders/1", "DPoP "+jwt, proof(t, key, "GET", u, jwt, nonce)); resp.StatusCode != 200 {
		t.Errorf("gateway B with gateway A's nonce: %d %s", resp.StatusCode, body)
	}
	f.tokend.Clock.Advance(20 * time.Minute)
	resp, body = dpopGet(t, gateways[1], "/orders/1", "DPoP "+jwt, proof(t, key, "GET", u, jwt, nonce))
	checkChallenge(t, "stale nonce", resp, body, "DPoP", tokenauth.ErrUseDPoPNonce)
	if fresh := resp.Header.Get("DPoP-Nonce"); fresh == "" || fresh == nonce {
		t.Errorf("stale nonce answered with DPoP-Nonce %q", fresh)
	} else if resp, body := dpopGet(t, gateways[0], "/orders/1", "DPoP "+jwt, proof(t, key, "GET", u, jwt, fresh)); resp.StatusCode != 200 {
		t.Errorf("gateway A with gateway B's fresh nonce: %d %s", resp.StatusCode, body)
	}
}

// TestGatewayUnboundAsDPoPSpendsNothing: a key that is not bound to a
// DPoP key, sent with the DPoP scheme and a good proof of some key, is
// refused (invalid_token in the DPoP challenge) before tokend counts
// anything, and reaches no upstream: refused many times so, the key
// with a limit of 2 still has both for its first Bearer request.
func TestGatewayUnboundAsDPoPSpendsNothing(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	gw := f.another(t, func(tc *tokenauth.Config, _ *gateway.Config) { tc.Now = f.tokend.Clock.Now })
	key := f.tokend.NewDPoPKey(t)
	u := gw + "/orders/1"
	for range 6 {
		resp, body := dpopGet(t, gw, "/orders/1", "DPoP "+f.limited, proof(t, key, "GET", u, f.limited, f.tokend.DPoP.Nonce()))
		checkChallenge(t, "unbound key as DPoP", resp, body, "DPoP", tokenauth.ErrInvalidToken)
	}
	if r := f.upstream.seen(); r != nil {
		t.Errorf("the upstream got %s %s", r.Method, r.URL)
	}
	resp, body := dpopGet(t, gw, "/orders/1", "Bearer "+f.limited)
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Errorf("as Bearer after: %d %s, X-RateLimit-Remaining %q; want 200 and 1 of 2 left",
			resp.StatusCode, body, resp.Header.Get("X-RateLimit-Remaining"))
	}
}
