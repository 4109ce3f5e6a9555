package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
)

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

// TestAuthzDPoP: forward-auth takes "Authorization: DPoP" with the
// client's DPoP header, which the proxy passes on, and checks the proof
// against the original method and URL (X-Forwarded-Proto, -Host and
// -Uri), for a bound API key and a bound JWT alike. A bound token as a
// bearer token, a missing, foreign, replayed or private-key proof, and a
// stale nonce are refused with the DPoP challenge first (the Bearer one
// after it) and the problem codes invalid-dpop-proof and use-dpop-nonce;
// use-dpop-nonce carries tokend's nonce in DPoP-Nonce.
func TestAuthzDPoP(t *testing.T) {
	f := newFixture(t)
	vkey := f.verifyKey(t)
	key := f.NewDPoPKey(t)
	bound := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}, DPoPJWK: key.PublicJWK()})
	now := f.Clock.Now()
	jwt, err := f.Signer.Sign(map[string]any{"iss": f.Issuer, "sub": "cli_x", "aud": "https://pay.example",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "jti-authz-dpop", "client_id": "cli_x", "scope": "read",
		"cnf": map[string]string{"jkt": key.JKT()}}, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	plain := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	const path = "/v1/authz?audience=https%3A%2F%2Fpay.example&scope=read"
	const u = "https://api.pay.example/orders/7"
	nonce := f.DPoP.Nonce()
	proof := func(method, url, token, n string) string {
		p, err := key.Proof(method, url, token, n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ask := func(method, auth string, proofs ...string) *http.Response {
		h := http.Header{"X-Forwarded-Method": {method}, "X-Forwarded-Uri": {"/orders/7?page=2"},
			"X-Forwarded-Host": {"api.pay.example"}, "X-Forwarded-Proto": {"https"}, "Authorization": {auth}}
		for _, p := range proofs {
			h.Add("DPoP", p)
		}
		return f.authz(t, "GET", path, vkey, h)
	}
	algs := `algs="` + strings.Join(dpop.SupportedAlgs, " ") + `"`
	for _, tok := range []struct{ name, token string }{{"api key", bound.Secret}, {"jwt", jwt}} {
		t.Run(tok.name, func(t *testing.T) {
			tk := tok.token
			once := proof("GET", u, tk, nonce)
			resp := ask("GET", "DPoP "+tk, once)
			if resp.StatusCode != 200 || resp.Header.Get(api.HeaderScopes) != "read" {
				t.Fatalf("a good proof: %d %v", resp.StatusCode, resp.Header)
			}
			bad := []struct {
				name, auth string
				proofs     []string
				first      string
				code       string
			}{
				{"bound token as bearer", "Bearer " + tk, []string{proof("GET", u, tk, nonce)},
					`Bearer realm="tokend", error="invalid_token"`, api.ErrUnauthorized},
				{"DPoP scheme without a proof", "DPoP " + tk, nil,
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"two proofs", "DPoP " + tk, []string{proof("GET", u, tk, nonce), proof("GET", u, tk, nonce)},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"proof for POST", "DPoP " + tk, []string{proof("POST", u, tk, nonce)},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"proof for another URL", "DPoP " + tk, []string{proof("GET", "https://api.pay.example/orders/8", tk, nonce)},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"proof for http", "DPoP " + tk, []string{proof("GET", "http://api.pay.example/orders/7", tk, nonce)},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"wrong ath", "DPoP " + tk, []string{proof("GET", u, plain.Secret, nonce)},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"replayed jti", "DPoP " + tk, []string{once},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"private key in jwk", "DPoP " + tk, []string{privateJWKProof(t, "GET", u, tk, f.Clock.Now())},
					`DPoP realm="tokend", error="invalid_dpop_proof", ` + algs, api.ErrInvalidDPoPProof},
				{"stale nonce", "DPoP " + tk, []string{proof("GET", u, tk, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
					`DPoP realm="tokend", error="use_dpop_nonce", ` + algs, api.ErrUseDPoPNonce},
			}
			for _, b := range bad {
				resp := ask("GET", b.auth, b.proofs...)
				ch := resp.Header.Values("WWW-Authenticate")
				if resp.StatusCode != 401 || len(ch) != 2 || ch[0] != b.first || resp.Header.Get(api.HeaderSubject) != "" {
					t.Errorf("%s: %d %q; want 401 with %q first", b.name, resp.StatusCode, ch, b.first)
				}
				if b.code == api.ErrUseDPoPNonce && resp.Header.Get("DPoP-Nonce") != nonce {
					t.Errorf("%s: DPoP-Nonce %q, want %q", b.name, resp.Header.Get("DPoP-Nonce"), nonce)
				}
				if b.first[:4] == "Bear" && ch[1] != `DPoP realm="tokend", `+algs {
					t.Errorf("%s: second challenge %q, want the bare DPoP one", b.name, ch[1])
				}
			}
		})
	}
	resp := ask("GET", "DPoP "+plain.Secret, proof("GET", u, plain.Secret, nonce))
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) != 2 ||
		ch[0] != `DPoP realm="tokend", error="invalid_token", `+algs || ch[1] != `Bearer realm="tokend"` {
		t.Errorf("unbound key as DPoP: %d %q", resp.StatusCode, ch)
	}
	resp = ask("GET", "")
	if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) != 2 ||
		ch[0] != `Bearer realm="tokend"` || ch[1] != `DPoP realm="tokend", `+algs {
		t.Errorf("no token: %d %q, want both bare challenges", resp.StatusCode, ch)
	}
}

// TestUnboundDPoPSpendsNothing: a token that is not bound to a DPoP key,
// sent with the DPoP scheme (and a good proof of some key), is refused
// before anything is counted, on forward-auth (401 invalid_token in the
// DPoP challenge) and at /v1/verify given the proof (NOT_DPOP_BOUND,
// with the token's details and no limit state): an API key and a
// personal access token with a rate limit of n and credits, refused many
// times so, still have all of them for their first Bearer request.
func TestUnboundDPoPSpendsNothing(t *testing.T) {
	f := newPATFixture(t)
	vkey := f.verifyKey(t)
	key := f.NewDPoPKey(t)
	const n = 3
	limits := []api.RateLimit{{Name: "burst", Limit: n, Window: api.Duration(time.Hour)}}
	credits := &api.Credits{Remaining: 10}
	apiKey := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}, RateLimits: limits, Credits: credits})
	pat := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}, RateLimits: limits})
	const path = "/v1/authz?audience=https%3A%2F%2Fpay.example&scope=read"
	const u = "https://api.pay.example/orders/7"
	algs := `algs="` + strings.Join(dpop.SupportedAlgs, " ") + `"`
	ask := func(auth string, proofs ...string) *http.Response {
		h := http.Header{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/orders/7"},
			"X-Forwarded-Host": {"api.pay.example"}, "X-Forwarded-Proto": {"https"}, "Authorization": {auth}}
		for _, p := range proofs {
			h.Add("DPoP", p)
		}
		return f.authz(t, "GET", path, vkey, h)
	}
	for _, tok := range []struct{ name, secret string }{{"api key", apiKey.Secret}, {"personal access token", pat.Secret}} {
		for range 2 * n {
			p, err := key.Proof("GET", u, tok.secret, f.DPoP.Nonce())
			if err != nil {
				t.Fatal(err)
			}
			resp := ask("DPoP "+tok.secret, p)
			if ch := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != 401 || len(ch) != 2 ||
				ch[0] != `DPoP realm="tokend", error="invalid_token", `+algs || resp.Header.Get("X-RateLimit-Limit") != "" {
				t.Fatalf("%s as DPoP on forward-auth: %d %q %v", tok.name, resp.StatusCode, ch, resp.Header)
			}
			p, _ = key.Proof("POST", u, tok.secret, f.DPoP.Nonce())
			r := f.verify(t, api.VerifyRequest{Token: tok.secret, Audience: "https://pay.example", Scopes: []string{"read"},
				DPoP: &api.VerifyDPoP{Proof: p, Method: "POST", URL: u}})
			if r.Valid || r.Code != api.CodeDPoPNotBound || r.Token == nil || len(r.RateLimits) != 0 || r.Credits != nil {
				t.Fatalf("%s with a proof at /v1/verify: %+v, want NOT_DPOP_BOUND spending nothing", tok.name, r)
			}
		}
		resp := ask("Bearer " + tok.secret)
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(n-1) {
			t.Errorf("%s as Bearer after: %d, X-RateLimit-Remaining %q; want 200 and %d of %d left",
				tok.name, resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), n-1, n)
		}
	}
	k, err := f.Client.GetKey(t.Context(), apiKey.Key.ID)
	if err != nil || k.Credits == nil || k.Credits.Remaining != 9 {
		t.Errorf("the API key's credits after one Bearer request: %+v, %v; want 9 of 10", k.Credits, err)
	}
}
