package gateway_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/tokenauth"
)

// identityGateway serves f's routes through a gateway that signs identity
// JWTs with a new key of the given kind ("ec" or "ed25519"), read from
// PEM as `tokend gateway --identity-key` reads it, and with the clock now
// when not nil.
func identityGateway(t *testing.T, f *fixture, kind string, now func() time.Time) string {
	t.Helper()
	var priv any
	var err error
	if kind == "ec" {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := gateway.ParseIdentityKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	id, err := gateway.NewIdentity(gateway.IdentityConfig{Key: key, Issuer: "https://gw.example", TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return f.another(t, func(_ *tokenauth.Config, gc *gateway.Config) { gc.Identity, gc.Now = id, now })
}

// TestGatewayIdentityJWT: with an identity key, the upstream receives a
// JWT of the caller that an independent verifier (go-oidc, against the
// gateway's published JWKS) accepts for the route's audience, with the
// identity claims; a JWT the client sent in the same header never gets
// through, and the JWKS holds no private key.
func TestGatewayIdentityJWT(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	for _, tt := range []struct{ kind, alg string }{{"ec", "ES256"}, {"ed25519", "EdDSA"}} {
		t.Run(tt.kind, func(t *testing.T) {
			gw := identityGateway(t, f, tt.kind, nil)
			g := &fixture{url: gw}
			forged := http.Header{api.HeaderIdentity: {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."}}
			resp, body := g.get(t, "/invoices", f.read, forged)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			raw := f.upstream.seen().Header.Get(api.HeaderIdentity)
			if raw == "" || raw == forged.Get(api.HeaderIdentity) {
				t.Fatalf("upstream %s = %q, want the gateway's JWT", api.HeaderIdentity, raw)
			}
			keys := oidc.NewRemoteKeySet(t.Context(), gw+api.IdentityJWKSPath)
			v := oidc.NewVerifier("https://gw.example", keys, &oidc.Config{ClientID: "https://pay.example",
				SupportedSigningAlgs: []string{tt.alg}})
			tok, err := v.Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("go-oidc refuses the identity JWT: %v", err)
			}
			var c api.IdentityClaims
			if err := tok.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Subject != "cust_1" || c.TokenKind != tokenauth.KindAPIKey || c.Scope != "read" || c.APIID != f.apiID ||
				!strings.HasPrefix(c.TokenID, "key_") || c.Expiry-c.IssuedAt != 30 || c.ID == "" {
				t.Errorf("claims %+v", c)
			}
			if got := f.upstream.seen().Header.Get(api.HeaderTokenID); got != c.TokenID {
				t.Errorf("token_id %q differs from %s %q", c.TokenID, api.HeaderTokenID, got)
			}
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.alg)})
			if err != nil || jws.Signatures[0].Header.ExtraHeaders["typ"] != api.IdentityJWTType {
				t.Errorf("header typ: %v %v", err, jws.Signatures[0].Header.ExtraHeaders)
			}
			// Another audience's verifier refuses it.
			other := oidc.NewVerifier("https://gw.example", keys, &oidc.Config{ClientID: "https://other.example",
				SupportedSigningAlgs: []string{tt.alg}})
			if _, err := other.Verify(t.Context(), raw); err == nil {
				t.Error("an identity JWT verified for another audience")
			}
			res, err := http.Get(gw + api.IdentityJWKSPath)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["d"] != nil ||
				set.Keys[0]["kid"] == "" || res.Header.Get("Content-Type") != "application/jwk-set+json" {
				t.Errorf("JWKS %s (%v)", b, err)
			}
		})
	}
}

// TestGatewayIdentityJWTReused: the gateway signs one identity JWT per
// caller and audience per half TTL: the same caller's next request within
// it carries the same JWT, another caller's its own, and past half the
// TTL a new one is made, valid for a whole TTL from then.
func TestGatewayIdentityJWTReused(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	g := &fixture{url: identityGateway(t, f, "ec", now)}
	jwt := func(key string) string {
		t.Helper()
		if resp, body := g.get(t, "/invoices", key, nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return f.upstream.seen().Header.Get(api.HeaderIdentity)
	}
	first := jwt(f.read)
	if again := jwt(f.read); again != first {
		t.Error("a second request of the same caller within half the TTL got a new JWT")
	}
	if other := jwt(f.limited); other == first || other == "" {
		t.Error("another caller got the first caller's JWT")
	}
	mu.Lock()
	clock = clock.Add(15 * time.Second) // half of the 30s TTL
	mu.Unlock()
	later := jwt(f.read)
	if later == first {
		t.Fatal("the JWT was reused past half its TTL")
	}
	var c api.IdentityClaims
	parsed, err := jose.ParseSigned(later, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || json.Unmarshal(parsed.UnsafePayloadWithoutVerification(), &c) != nil {
		t.Fatal(err)
	}
	if c.IssuedAt != now().Unix() || c.Expiry != now().Add(30*time.Second).Unix() {
		t.Errorf("new JWT iat %d exp %d, want %d and 30s later", c.IssuedAt, c.Expiry, now().Unix())
	}
}

// TestIdentityKeyRefused: keys that cannot sign ES256 or EdDSA, and
// files that hold no private key, are refused with a reason.
func TestIdentityKeyRefused(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	for name, file := range map[string][]byte{
		"not PEM":     []byte("hello"),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}),
		"garbage DER": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := gateway.ParseIdentityKey(file); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	key, err := gateway.ParseIdentityKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.NewIdentity(gateway.IdentityConfig{Key: key}); err == nil || !strings.Contains(err.Error(), "P-256") {
		t.Errorf("P-384 key: %v, want refused", err)
	}
}
