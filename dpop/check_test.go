package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testURL = "https://tokend.example/oauth2/token"

var t0 = time.Unix(1_800_000_000, 0)

// mint builds a proof by hand, so that every header and claim can be
// wrong: edit changes the header and claims before signing with key.
func mint(t testing.TB, key *ecdsa.PrivateKey, edit func(h, c map[string]any)) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: key.Public()}
	jb, _ := jwk.MarshalJSON()
	var jm map[string]any
	json.Unmarshal(jb, &jm)
	h := map[string]any{"typ": Typ, "alg": "ES256", "jwk": jm}
	c := map[string]any{"jti": rand.Text(), "htm": "POST", "htu": testURL, "iat": t0.Unix()}
	if edit != nil {
		edit(h, c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := b64(hb) + "." + b64(cb)
	var sig []byte
	switch h["alg"] {
	case "ES256":
		sum := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case "HS256":
		m := hmac.New(sha256.New, []byte("a shared secret of thirty-two by"))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
		return input + "."
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testChecker(nonces *Nonces) *Checker {
	now := func() time.Time { return t0 }
	return New(Config{Now: now, Nonces: nonces})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Code != code {
		t.Fatalf("Check error = %v, want %s", err, code)
	}
}

func TestCheckAcceptsGoodProofs(t *testing.T) {
	ec := newECKey(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]crypto.Signer{"ES256": ec, "EdDSA": ed, "PS256": rk} {
		t.Run(name, func(t *testing.T) {
			k, err := NewKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			k.Now = func() time.Time { return t0 }
			p, err := k.Proof("GET", "https://API.example:443/v1/things?x=1#f", "tok_abc", "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := testChecker(nil).Check(t.Context(), p, Request{Method: "GET", URL: "https://api.example/v1/things", AccessToken: "tok_abc"})
			if err != nil {
				t.Fatalf("Check = %v", err)
			}
			if got.JKT != k.JKT() || !ValidThumbprint(got.JKT) {
				t.Errorf("JKT = %q, want %q", got.JKT, k.JKT())
			}
		})
	}
}

func TestCheckRS256(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := newKey(rk, jose.RS256)
	if err != nil {
		t.Fatal(err)
	}
	k.Now = func() time.Time { return t0 }
	p, _ := k.Proof("POST", testURL, "", "")
	if _, err := testChecker(nil).Check(t.Context(), p, Request{Method: "POST", URL: testURL}); err != nil {
		t.Fatalf("Check(RS256) = %v", err)
	}
}

// TestCheckRefuses has one case per check of RFC 9449 §4.3.
func TestCheckRefuses(t *testing.T) {
	key := newECKey(t)
	other := newECKey(t)
	priv := func(h, c map[string]any) {
		jb, _ := (&jose.JSONWebKey{Key: key}).MarshalJSON()
		var jm map[string]any
		json.Unmarshal(jb, &jm)
		h["jwk"] = jm
	}
	tests := []struct {
		name  string
		proof func() string
		req   Request
	}{
		{"empty", func() string { return "" }, Request{}},
		{"not a jwt", func() string { return "abc.def" }, Request{}},
		{"garbage header", func() string { return "!!!.e30.e30" }, Request{}},
		{"wrong typ", func() string { return mint(t, key, func(h, c map[string]any) { h["typ"] = "JWT" }) }, Request{}},
		{"no typ", func() string { return mint(t, key, func(h, c map[string]any) { delete(h, "typ") }) }, Request{}},
		{"alg none", func() string { return mint(t, key, func(h, c map[string]any) { h["alg"] = "none" }) }, Request{}},
		{"alg HS256", func() string { return mint(t, key, func(h, c map[string]any) { h["alg"] = "HS256" }) }, Request{}},
		{"alg ES384", func() string { return mint(t, key, func(h, c map[string]any) { h["alg"] = "ES384" }) }, Request{}},
		{"private key in jwk", func() string { return mint(t, key, priv) }, Request{}},
		{"symmetric jwk", func() string {
			return mint(t, key, func(h, c map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} })
		}, Request{}},
		{"no jwk", func() string { return mint(t, key, func(h, c map[string]any) { delete(h, "jwk") }) }, Request{}},
		{"bad signature", func() string {
			p := mint(t, key, nil)
			return p[:len(p)-4] + "AAAA"
		}, Request{}},
		{"signed by another key", func() string {
			jb, _ := (&jose.JSONWebKey{Key: other.Public()}).MarshalJSON()
			var jm map[string]any
			json.Unmarshal(jb, &jm)
			return mint(t, key, func(h, c map[string]any) { h["jwk"] = jm })
		}, Request{}},
		{"no jti", func() string { return mint(t, key, func(h, c map[string]any) { delete(c, "jti") }) }, Request{}},
		{"iat a string", func() string { return mint(t, key, func(h, c map[string]any) { c["iat"] = "now" }) }, Request{}},
		{"htm mismatch", func() string { return mint(t, key, func(h, c map[string]any) { c["htm"] = "GET" }) }, Request{}},
		{"htm lower case", func() string { return mint(t, key, func(h, c map[string]any) { c["htm"] = "post" }) }, Request{}},
		{"htu other path", func() string {
			return mint(t, key, func(h, c map[string]any) { c["htu"] = "https://tokend.example/oauth2/token2" })
		}, Request{}},
		{"htu other host", func() string {
			return mint(t, key, func(h, c map[string]any) { c["htu"] = "https://evil.example/oauth2/token" })
		}, Request{}},
		{"htu http", func() string {
			return mint(t, key, func(h, c map[string]any) { c["htu"] = "http://tokend.example/oauth2/token" })
		}, Request{}},
		{"stale iat", func() string {
			return mint(t, key, func(h, c map[string]any) { c["iat"] = t0.Add(-3 * time.Minute).Unix() })
		}, Request{}},
		{"future iat", func() string {
			return mint(t, key, func(h, c map[string]any) { c["iat"] = t0.Add(2 * time.Minute).Unix() })
		}, Request{}},
		{"missing ath", func() string { return mint(t, key, nil) }, Request{AccessToken: "tok_1"}},
		{"wrong ath", func() string {
			return mint(t, key, func(h, c map[string]any) { c["ath"] = AccessTokenHash("tok_2") })
		}, Request{AccessToken: "tok_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Method, req.URL = "POST", testURL
			_, err := testChecker(nil).Check(t.Context(), tt.proof(), req)
			wantCode(t, err, CodeInvalidProof)
			if strings.Contains(err.Error(), "eyJ") {
				t.Errorf("error %q repeats the proof", err)
			}
		})
	}
}

func TestCheckRefusesReplay(t *testing.T) {
	key := newECKey(t)
	c := testChecker(nil)
	p := mint(t, key, nil)
	req := Request{Method: "POST", URL: testURL}
	if _, err := c.Check(t.Context(), p, req); err != nil {
		t.Fatalf("first Check = %v", err)
	}
	_, err := c.Check(t.Context(), p, req)
	wantCode(t, err, CodeInvalidProof)
	// Same jti, another key: another proof.
	jti := "fixed-jti"
	for _, k := range []*ecdsa.PrivateKey{key, newECKey(t)} {
		p := mint(t, k, func(h, c map[string]any) { c["jti"] = jti })
		if _, err := c.Check(t.Context(), p, req); err != nil {
			t.Fatalf("Check of jti %q under a new key = %v", jti, err)
		}
	}
}

func TestCheckNonces(t *testing.T) {
	key := newECKey(t)
	now := t0
	n := NewNonces([]byte("0123456789abcdef0123456789abcdef"), time.Minute, func() time.Time { return now })
	c := New(Config{Now: func() time.Time { return now }, Nonces: n})
	req := Request{Method: "POST", URL: testURL}
	_, err := c.Check(t.Context(), mint(t, key, nil), req)
	wantCode(t, err, CodeUseNonce)
	e, _ := errors.AsType[*Error](err)
	if !n.Valid(e.Nonce) {
		t.Fatalf("use_dpop_nonce carries nonce %q, which is not valid", e.Nonce)
	}
	good := mint(t, key, func(h, c map[string]any) { c["nonce"] = e.Nonce })
	if _, err := c.Check(t.Context(), good, req); err != nil {
		t.Fatalf("Check with the nonce = %v", err)
	}
	// Two periods later the nonce is stale.
	now = now.Add(2*time.Minute + time.Second)
	stale := mint(t, key, func(h, c map[string]any) { c["nonce"] = e.Nonce; c["iat"] = now.Unix() })
	_, err = c.Check(t.Context(), stale, req)
	wantCode(t, err, CodeUseNonce)
	// A nonce made with another secret is refused.
	forged := NewNonces([]byte("another secret of thirty-two b.."), time.Minute, func() time.Time { return now }).Current()
	_, err = c.Check(t.Context(), mint(t, key, func(h, c map[string]any) { c["nonce"] = forged; c["iat"] = now.Unix() }), req)
	wantCode(t, err, CodeUseNonce)
}

func TestNoncesAcrossNodes(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := t0
	a := NewNonces(secret, time.Minute, func() time.Time { return now })
	b := NewNonces(secret, time.Minute, func() time.Time { return now.Add(time.Minute) }) // a clock a period ahead
	if n := a.Current(); !b.Valid(n) {
		t.Errorf("node b refuses node a's nonce %q", n)
	}
	if n := b.Current(); !a.Valid(n) {
		t.Errorf("node a refuses node b's nonce %q", n)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 32), a.Current() + "A"} {
		if a.Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestMemoryReplayBoundAndExpiry(t *testing.T) {
	now := t0
	m := NewMemoryReplay(3, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	for i := range 3 {
		if ok, err := m.UseOnce(ctx, string(rune('a'+i)), time.Minute); !ok || err != nil {
			t.Fatalf("UseOnce(%d) = %v, %v", i, ok, err)
		}
	}
	if ok, err := m.UseOnce(ctx, "z", time.Minute); ok || !errors.Is(err, ErrReplayCacheFull) {
		t.Errorf("UseOnce over max = %v, %v; want ErrReplayCacheFull", ok, err)
	}
	now = now.Add(time.Minute)
	if ok, _ := m.UseOnce(ctx, "a", time.Minute); ok {
		t.Error("a key one period old was forgotten")
	}
	now = now.Add(2 * time.Minute)
	if ok, err := m.UseOnce(ctx, "a", time.Minute); !ok || err != nil {
		t.Errorf("a key three periods old: UseOnce = %v, %v; want forgotten", ok, err)
	}
}

func TestSameURI(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"https://a.example/p", "https://a.example/p", true},
		{"https://A.Example:443/p?q=1", "https://a.example/p#frag", true},
		{"http://a.example:80/p", "http://a.example/p", true},
		{"https://a.example", "https://a.example/", true},
		{"https://a.example/%7e", "https://a.example/%7E", true},
		{"https://a.example/p", "https://a.example/P", false},
		{"https://a.example:8443/p", "https://a.example/p", false},
		{"https://a.example/p", "http://a.example/p", false},
		{"/p", "/p", false},
		{"https://user@a.example/p", "https://a.example/p", false},
	} {
		if got := SameURI(tt.a, tt.b); got != tt.want {
			t.Errorf("SameURI(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPublicKeyThumbprint(t *testing.T) {
	// RFC 7638 §3.1's example key and thumbprint.
	const rfc = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	got, err := PublicKeyThumbprint([]byte(rfc))
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want || err != nil {
		t.Errorf("PublicKeyThumbprint(RFC 7638 key) = %q, %v; want %q", got, err, want)
	}
	k := newECKey(t)
	pb, _ := (&jose.JSONWebKey{Key: k}).MarshalJSON()
	if _, err := PublicKeyThumbprint(pb); err == nil {
		t.Error("PublicKeyThumbprint accepted a private key")
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	sb, _ := (&jose.JSONWebKey{Key: small.Public()}).MarshalJSON()
	if _, err := PublicKeyThumbprint(sb); err == nil {
		t.Error("PublicKeyThumbprint accepted a 1024-bit RSA key")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	eb, _ := (&jose.JSONWebKey{Key: p384.Public()}).MarshalJSON()
	if _, err := PublicKeyThumbprint(eb); err == nil {
		t.Error("PublicKeyThumbprint accepted a P-384 key")
	}
	if _, err := PublicKeyThumbprint([]byte(`{"kty":"oct","k":"c2VjcmV0"}`)); err == nil {
		t.Error("PublicKeyThumbprint accepted a symmetric key")
	}
}

// mintEd25519 makes a proof whose alg is "Ed25519", the fully-specified
// name (RFC 9864) that panva's dpop package sends for Ed25519 keys.
func mintEd25519(t testing.TB, priv ed25519.PrivateKey, edit func(h, c map[string]any)) string {
	t.Helper()
	jb, _ := (&jose.JSONWebKey{Key: priv.Public()}).MarshalJSON()
	var jm map[string]any
	json.Unmarshal(jb, &jm)
	h := map[string]any{"typ": Typ, "alg": "Ed25519", "jwk": jm}
	c := map[string]any{"jti": rand.Text(), "htm": "POST", "htu": testURL, "iat": t0.Unix()}
	if edit != nil {
		edit(h, c)
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	input := b64(hb) + "." + b64(cb)
	return input + "." + b64(ed25519.Sign(priv, []byte(input)))
}

func TestCheckEd25519AlgName(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	c := testChecker(nil)
	req := Request{Method: "POST", URL: testURL}
	p, err := c.Check(t.Context(), mintEd25519(t, ed, nil), req)
	if err != nil {
		t.Fatalf("Check(alg Ed25519) = %v", err)
	}
	k, _ := NewKey(ed)
	if p.JKT != k.JKT() {
		t.Errorf("JKT = %q, want %q (the same key as under EdDSA)", p.JKT, k.JKT())
	}
	other := mintEd25519(t, ed, nil)
	other = other[:len(other)-4] + "AAAA"
	_, err = c.Check(t.Context(), other, req)
	wantCode(t, err, CodeInvalidProof)

	// alg Ed25519 with a P-256 key is refused, as EdDSA would be.
	ecProof := mint(t, newECKey(t), func(h, _ map[string]any) { h["alg"] = "Ed25519" })
	_, err = c.Check(t.Context(), ecProof, req)
	wantCode(t, err, CodeInvalidProof)

	// A private key in jwk is refused under this alg name too.
	priv := mintEd25519(t, ed, func(h, _ map[string]any) {
		h["jwk"].(map[string]any)["d"] = b64(ed.Seed())
	})
	_, err = c.Check(t.Context(), priv, req)
	wantCode(t, err, CodeInvalidProof)

	if !slices.Contains(c.Algs(), "Ed25519") || !slices.Contains(c.Algs(), "EdDSA") {
		t.Errorf("Algs() = %v, want both EdDSA and Ed25519", c.Algs())
	}
}
