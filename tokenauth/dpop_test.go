package tokenauth_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
	"golang.org/x/oauth2"
)

// dpopToken gets a client_credentials access token of format ("jwt" or
// "opaque") bound to key, with invoices:read, from tokend's token
// endpoint (which requires a nonce: the transport retries once).
func (e *env) dpopToken(t testing.TB, format string, key *dpop.Key) string {
	t.Helper()
	cc := e.oauthClient(t, format, "invoices:read")
	hc, _ := servertest.DPoPClient(key)
	tok, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, hc))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" {
		t.Fatalf("token_type %q, want DPoP", tok.TokenType)
	}
	return tok.AccessToken
}

// doDPoP sends method path to the resource server with Authorization
// auth and the given DPoP headers.
func (e *env) doDPoP(t testing.TB, method, path, auth string, proofs ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.rs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return send(t, http.DefaultClient, req)
}

func send(t testing.TB, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, strings.TrimSpace(string(b))}
}

func proofOf(t testing.TB, k *dpop.Key, method, url, token, nonce string) string {
	t.Helper()
	p, err := k.Proof(method, url, token, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// privateJWKProof is a proof of an ES256 key whose jwk header holds the
// private key too (d): it must be refused however well it is signed.
func privateJWKProof(t testing.TB, method, url, token string, now time.Time) string {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jb, _ := (&jose.JSONWebKey{Key: priv}).MarshalJSON()
	h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": json.RawMessage(jb)})
	c, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": method, "htu": url, "iat": now.Unix(),
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

// wantRefusal checks a 401 (or status) with error code in the challenge
// of scheme, which comes first, and the other scheme's challenge after.
func wantRefusal(t *testing.T, name string, a answer, status int, scheme, code string) {
	t.Helper()
	ch := a.header.Values("WWW-Authenticate")
	other := "DPoP "
	if scheme == "DPoP" {
		other = "Bearer"
	}
	if a.status != status || len(ch) != 2 || !strings.HasPrefix(ch[0], scheme+" ") ||
		!strings.Contains(ch[0], `error="`+code+`"`) || !strings.HasPrefix(ch[1], other) || strings.Contains(ch[1], "error=") ||
		!strings.Contains(a.header.Get("WWW-Authenticate")+ch[1], `algs="ES256 EdDSA Ed25519 RS256 PS256"`) {
		t.Errorf("%s: %d %q %s; want %d with %s error=%q first", name, a.status, ch, a.body, status, scheme, code)
	}
}

// TestDPoPBoundJWT: a JWT bound to a key (cnf.jkt) is accepted only as
// Authorization: DPoP with a proof of that key for this request,
// checked here, without asking tokend. Every bad proof is refused with
// the RFC 9449 code in the DPoP challenge.
func TestDPoPBoundJWT(t *testing.T) {
	e := newEnv(t, nil)
	key := e.NewDPoPKey(t)
	tok := e.dpopToken(t, "jwt", key)
	u := e.rs.URL + "/invoices"
	good := func() string { return proofOf(t, key, "GET", u, tok, "") }

	a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, good())
	if a.status != 200 || a.principal(t).Kind != tokenauth.KindJWTAccessToken {
		t.Fatalf("DPoP with a good proof: %d %s", a.status, a.body)
	}
	replayed := good()
	if a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, replayed); a.status != 200 {
		t.Fatalf("DPoP with a good proof: %d %s", a.status, a.body)
	}
	unbound := token(t, e.oauthClient(t, "jwt", "invoices:read"))
	other := e.NewDPoPKey(t)
	tests := []struct {
		name, auth string
		proofs     []string
		scheme     string
		code       string
	}{
		{"bound token as bearer", "Bearer " + tok, nil, "Bearer", tokenauth.ErrInvalidToken},
		{"bound token as bearer with a proof", "Bearer " + tok, []string{good()}, "Bearer", tokenauth.ErrInvalidToken},
		{"DPoP scheme without a proof", "DPoP " + tok, nil, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"two proofs", "DPoP " + tok, []string{good(), good()}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"proof for POST", "DPoP " + tok, []string{proofOf(t, key, "POST", u, tok, "")}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"proof for another URL", "DPoP " + tok, []string{proofOf(t, key, "GET", e.rs.URL+"/reports", tok, "")}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"proof for another host", "DPoP " + tok, []string{proofOf(t, key, "GET", "https://billing.example.com/invoices", tok, "")}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"wrong ath", "DPoP " + tok, []string{proofOf(t, key, "GET", u, unbound, "")}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"no ath", "DPoP " + tok, []string{proofOf(t, key, "GET", u, "", "")}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"replayed jti", "DPoP " + tok, []string{replayed}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"private key in jwk", "DPoP " + tok, []string{privateJWKProof(t, "GET", u, tok, e.clock.Now())}, "DPoP", tokenauth.ErrInvalidDPoPProof},
		{"proof of another key", "DPoP " + tok, []string{proofOf(t, other, "GET", u, tok, "")}, "DPoP", tokenauth.ErrInvalidToken},
		{"unbound token as DPoP", "DPoP " + unbound, []string{proofOf(t, key, "GET", u, unbound, "")}, "DPoP", tokenauth.ErrInvalidToken},
		{"not a JWT proof", "DPoP " + tok, []string{"not-a-proof"}, "DPoP", tokenauth.ErrInvalidDPoPProof},
	}
	for _, tt := range tests {
		wantRefusal(t, tt.name, e.doDPoP(t, "GET", "/invoices", tt.auth, tt.proofs...), 401, tt.scheme, tt.code)
	}
	stale := proofOf(t, key, "GET", u, tok, "")
	e.clock.Advance(3 * time.Minute)
	wantRefusal(t, "proof with a stale iat", e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, stale), 401, "DPoP", tokenauth.ErrInvalidDPoPProof)
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("/v1/verify asked %d times about a DPoP-bound JWT", n)
	}

	// Scopes are still checked: 403 in the DPoP challenge.
	key.Now = e.clock.Now
	a = e.doDPoP(t, "POST", "/invoices", "DPoP "+tok, proofOf(t, key, "POST", u, tok, ""))
	wantRefusal(t, "DPoP without the scope", a, 403, "DPoP", tokenauth.ErrInsufficientScope)
}

// TestDPoPNonces: a resource server with DPoPNonceSecret requires its
// nonce in proofs; a proof without one, or with a stale one, gets
// use_dpop_nonce and a fresh DPoP-Nonce, and a client that retries with
// it is let through.
func TestDPoPNonces(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	e := newEnv(t, func(c *tokenauth.Config) { c.DPoPNonceSecret = secret })
	key := e.NewDPoPKey(t)
	tok := e.dpopToken(t, "jwt", key)
	u := e.rs.URL + "/invoices"

	a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, ""))
	wantRefusal(t, "proof without a nonce", a, 401, "DPoP", tokenauth.ErrUseDPoPNonce)
	nonce := a.header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	if a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, nonce)); a.status != 200 {
		t.Fatalf("proof with the nonce: %d %s", a.status, a.body)
	}
	// An hour later the nonce is stale: refused, with a fresh one.
	e.clock.Advance(time.Hour)
	key.Now = e.clock.Now
	a = e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, nonce))
	wantRefusal(t, "proof with a stale nonce", a, 401, "DPoP", tokenauth.ErrUseDPoPNonce)
	fresh := a.header.Get("DPoP-Nonce")
	if fresh == "" || fresh == nonce {
		t.Fatalf("stale nonce answered with DPoP-Nonce %q (the stale one was %q)", fresh, nonce)
	}
	// A nonce of another secret is no nonce of this server.
	foreign := dpop.NewNonces([]byte("another secret of thirty-two byt"), 0, e.clock.Now).Current()
	a = e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, foreign))
	wantRefusal(t, "proof with another server's nonce", a, 401, "DPoP", tokenauth.ErrUseDPoPNonce)

	// A DPoP client does the dance by itself: one retry, then 200.
	hc, tr := servertest.DPoPClient(key)
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "DPoP "+tok)
	if a := send(t, hc, req); a.status != 200 || tr.Retries.Load() != 1 {
		t.Errorf("DPoP client: %d after %d retries, want 200 after 1: %s", a.status, tr.Retries.Load(), a.body)
	}
	// A request without any token learns the nonce too.
	if a := e.do(t, "GET", "/invoices"); a.status != 401 || a.header.Get("DPoP-Nonce") == "" {
		t.Errorf("no token: %d, DPoP-Nonce %q", a.status, a.header.Get("DPoP-Nonce"))
	}
}

// TestDPoPPublicURL: behind a proxy, the proof names the public URL,
// which PublicURL gives; a proof of the URL the server sees is refused.
func TestDPoPPublicURL(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.PublicURL = "https://api.example.com/billing/" })
	key := e.NewDPoPKey(t)
	tok := e.dpopToken(t, "jwt", key)
	if a := e.doDPoP(t, "GET", "/invoices?page=2", "DPoP "+tok,
		proofOf(t, key, "GET", "https://API.example.com:443/billing/invoices", tok, "")); a.status != 200 {
		t.Errorf("proof of the public URL: %d %s", a.status, a.body)
	}
	a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", e.rs.URL+"/invoices", tok, ""))
	wantRefusal(t, "proof of the internal URL", a, 401, "DPoP", tokenauth.ErrInvalidDPoPProof)
	if _, err := tokenauth.New(tokenauth.Config{URL: e.URL, Audience: audience, PublicURL: "/billing",
		DPoPNonceSecret: []byte("short")}); err == nil || !strings.Contains(err.Error(), "PublicURL") ||
		!strings.Contains(err.Error(), "DPoPNonceSecret") {
		t.Errorf("New(bad PublicURL and DPoPNonceSecret) = %v, want both named", err)
	}
}

// TestDPoPBoundOpaque: an API key and an opaque access token bound to a
// key are relayed to /v1/verify with the proof, the method and the URL,
// on every request (never from the cache), and tokend's answers become
// the same challenges, its nonce in DPoP-Nonce.
func TestDPoPBoundOpaque(t *testing.T) {
	e := newEnv(t, nil)
	key := e.NewDPoPKey(t)
	k := e.key(t, func(r *api.CreateKeyRequest) { r.DPoPJWK = key.PublicJWK() })
	opaque := e.dpopToken(t, "opaque", key)
	u := e.rs.URL + "/invoices"
	for name, tok := range map[string]string{"api key": k.Secret, "opaque access token": opaque} {
		t.Run(name, func(t *testing.T) {
			a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, ""))
			wantRefusal(t, "no nonce", a, 401, "DPoP", tokenauth.ErrUseDPoPNonce)
			nonce := a.header.Get("DPoP-Nonce")
			if nonce != e.DPoP.Nonce() {
				t.Fatalf("DPoP-Nonce %q, want tokend's %q", nonce, e.DPoP.Nonce())
			}
			before := e.calls.calls("/v1/verify")
			once := proofOf(t, key, "GET", u, tok, nonce)
			for i := range 2 {
				p := once
				if i == 1 {
					p = proofOf(t, key, "GET", u, tok, nonce)
				}
				if a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, p); a.status != 200 || a.principal(t).Subject == "" {
					t.Fatalf("good proof %d: %d %s", i, a.status, a.body)
				}
			}
			if n := e.calls.calls("/v1/verify") - before; n != 2 {
				t.Errorf("/v1/verify asked %d times for 2 DPoP requests, want 2 (never cached)", n)
			}
			tests := []struct {
				name, auth string
				proofs     []string
				scheme     string
				code       string
			}{
				{"as bearer", "Bearer " + tok, nil, "Bearer", tokenauth.ErrInvalidToken},
				{"replayed proof", "DPoP " + tok, []string{once}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"without a proof", "DPoP " + tok, nil, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"proof for POST", "DPoP " + tok, []string{proofOf(t, key, "POST", u, tok, nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"proof for another URL", "DPoP " + tok, []string{proofOf(t, key, "GET", e.rs.URL+"/x", tok, nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"wrong ath", "DPoP " + tok, []string{proofOf(t, key, "GET", u, "other", nonce)}, "DPoP", tokenauth.ErrInvalidDPoPProof},
				{"stale nonce", "DPoP " + tok, []string{proofOf(t, key, "GET", u, tok, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}, "DPoP", tokenauth.ErrUseDPoPNonce},
				{"private key in jwk", "DPoP " + tok, []string{privateJWKProof(t, "GET", u, tok, e.Clock.Now())}, "DPoP", tokenauth.ErrInvalidDPoPProof},
			}
			for _, tt := range tests {
				wantRefusal(t, tt.name, e.doDPoP(t, "GET", "/invoices", tt.auth, tt.proofs...), 401, tt.scheme, tt.code)
			}
		})
	}
	plain := e.key(t, nil)
	a := e.doDPoP(t, "GET", "/invoices", "DPoP "+plain.Secret, proofOf(t, key, "GET", u, plain.Secret, e.DPoP.Nonce()))
	wantRefusal(t, "unbound key as DPoP", a, 401, "DPoP", tokenauth.ErrInvalidToken)
}

// TestDPoPReplayAcrossInstances: two resource servers that share a
// replay cache in Redis refuse a proof the other accepted.
func TestDPoPReplayAcrossInstances(t *testing.T) {
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("needs TOKEND_TEST_REDIS")
	}
	shared, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: url, Prefix: "tokenauth-test:" + rand.Text() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	public := "https://api.example.com"
	mod := func(c *tokenauth.Config) { c.DPoPReplay, c.PublicURL = shared, public }
	e := newEnv(t, mod)
	key := e.NewDPoPKey(t)
	tok := e.dpopToken(t, "jwt", key)
	// A second instance of the resource server, of the same tokend.
	other, err := tokenauth.New(tokenauth.Config{URL: e.URL, Audience: audience, DPoPReplay: shared, PublicURL: public, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := proofOf(t, key, "GET", public+"/invoices", tok, "")
	check := func(a *tokenauth.Auth) error {
		r, _ := http.NewRequest("GET", "http://10.0.0.1/invoices", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", p)
		_, err := a.Check(r, tokenauth.Requirement{Scopes: []string{"invoices:read"}})
		return err
	}
	if err := check(e.auth); err != nil {
		t.Fatalf("instance A: %v", err)
	}
	err = check(other)
	if te, ok := err.(*tokenauth.Error); !ok || te.Code != tokenauth.ErrInvalidDPoPProof || !strings.Contains(te.Description, "already used") {
		t.Errorf("the proof replayed to instance B: %v, want invalid_dpop_proof (already used)", err)
	}
}

// TestDPoPBoundJWTRevocationCheck: with RevocationCheckInterval, a bound
// JWT, whose proof is checked here, is asked about at tokend's
// introspection endpoint (/v1/verify would want a proof of its own), and
// refused once revoked.
func TestDPoPBoundJWTRevocationCheck(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.RevocationCheckInterval = 10 * time.Second })
	key := e.NewDPoPKey(t)
	cc := e.oauthClient(t, "jwt", "invoices:read")
	hc, _ := servertest.DPoPClient(key)
	ot, err := cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, hc))
	if err != nil {
		t.Fatal(err)
	}
	tok, u := ot.AccessToken, e.rs.URL+"/invoices"
	if a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, "")); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if n := e.calls.calls("/oauth2/introspect"); n != 1 {
		t.Errorf("introspection asked %d times, want 1", n)
	}
	req, _ := http.NewRequest("POST", e.URL+"/oauth2/revoke", strings.NewReader("token="+tok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cc.ClientID, cc.ClientSecret)
	if a := send(t, http.DefaultClient, req); a.status != 200 {
		t.Fatalf("revoke: %d %s", a.status, a.body)
	}
	e.clock.Advance(10 * time.Second)
	a := e.doDPoP(t, "GET", "/invoices", "DPoP "+tok, proofOf(t, key, "GET", u, tok, ""))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "the token has been revoked") {
		t.Fatalf("after the interval: %d %v", a.status, a.header)
	}
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("/v1/verify asked %d times about a bound JWT", n)
	}
}

// TestUnboundAsDPoPSpendsNothing: a key that is not bound to a DPoP key,
// sent with the DPoP scheme and a good proof of some key, is refused
// (invalid_token in the DPoP challenge) before tokend counts anything:
// refused many times so, a key with a rate limit of n still has all n
// for its first Bearer request.
func TestUnboundAsDPoPSpendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	key := e.NewDPoPKey(t)
	const n = 3
	k := e.key(t, func(r *api.CreateKeyRequest) {
		r.RateLimits = []api.RateLimit{{Name: "burst", Limit: n, Window: api.Duration(time.Hour)}}
	})
	u := e.rs.URL + "/invoices"
	for i := range 3 * n {
		a := e.doDPoP(t, "GET", "/invoices", "DPoP "+k.Secret, proofOf(t, key, "GET", u, k.Secret, e.DPoP.Nonce()))
		wantRefusal(t, sprintf("unbound key as DPoP, %d", i), a, 401, "DPoP", tokenauth.ErrInvalidToken)
	}
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != 200 || a.header.Get("X-RateLimit-Remaining") != strconv.Itoa(n-1) {
		t.Errorf("as Bearer after: %d, X-RateLimit-Remaining %q; want 200 and %d of %d left",
			a.status, a.header.Get("X-RateLimit-Remaining"), n-1, n)
	}
}
