package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
)

const issuer = "https://tokend.test"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type jwtFixture struct {
	e      *Engine
	db     *store.DB
	signer *signer.Signer
	clock  *testClock
	apiID  string
}

func newJWTFixture(t *testing.T) *jwtFixture {
	t.Helper()
	db, err := store.Open(t.Context(), t.TempDir()+"/t.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := signer.New(t.Context(), signer.Config{DB: db, KEK: make([]byte, signer.KEKSize), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{DB: db, Now: c.Now, JWT: &JWTConfig{Signer: s, Issuer: issuer}})
	keys := apikey.NewService(apikey.Config{DB: db, Now: c.Now})
	var apiID string
	for _, aud := range []string{"https://pay.example", "https://other.example"} {
		a, err := keys.CreateAPI(t.Context(), audit.System, api.CreateAPIRequest{Name: aud, Audience: aud,
			Scopes: []string{"read", "write"}, KeyPrefix: strings.TrimSuffix(strings.TrimPrefix(aud, "https://"), ".example")})
		if err != nil {
			t.Fatal(err)
		}
		if apiID == "" {
			apiID = a.ID
		}
	}
	return &jwtFixture{e: e, db: db, signer: s, clock: c, apiID: apiID}
}

// claims returns valid RFC 9068 claims for the API "https://pay.example".
func (f *jwtFixture) claims() map[string]any {
	now := f.clock.Now()
	return map[string]any{"iss": issuer, "sub": "client-1", "aud": "https://pay.example",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"jti": "jti-" + rand.Text(), "client_id": "client-1", "scope": "read write"}
}

func (f *jwtFixture) sign(t *testing.T, c any) string {
	t.Helper()
	tok, err := f.signer.Sign(c, credential.TypAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *jwtFixture) verify(t *testing.T, req Request) Result {
	t.Helper()
	var res Result
	if err := f.e.Verify(t.Context(), &req, &res); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func with(c map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func forgeJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, payload string) string {
	t.Helper()
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType(credential.TypAccessToken).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJWTValid(t *testing.T) {
	f := newJWTFixture(t)
	c := f.claims()
	tok := f.sign(t, c)
	res := f.verify(t, Request{Token: tok, Audience: "https://pay.example", Scopes: []string{"read"}})
	if res.Code != api.CodeValid {
		t.Fatalf("code %s, want VALID", res.Code)
	}
	ti := res.Token
	exp := time.Unix(c["exp"].(int64), 0).UTC()
	if ti.Kind != credential.KindJWTAccessToken || ti.ID != c["jti"] || ti.Subject != "client-1" || ti.APIID != f.apiID ||
		ti.ClientID != "client-1" || strings.Join(ti.Scopes, " ") != "read write" || !ti.ExpiresAt.Equal(exp) {
		t.Errorf("token info = %+v", ti)
	}
	// Without an audience in the request, the token's registered one counts.
	if res := f.verify(t, Request{Token: tok}); res.Code != api.CodeValid || res.Token.APIID != f.apiID {
		t.Errorf("without audience: %s %+v", res.Code, res.Token)
	}
	// Several audiences: the registered one is found.
	multi := f.sign(t, with(f.claims(), "aud", []string{"https://unknown.example", "https://pay.example"}))
	if res := f.verify(t, Request{Token: multi}); res.Code != api.CodeValid || res.Token.APIID != f.apiID {
		t.Errorf("multi-audience token: %s %+v", res.Code, res.Token)
	}
	// Within the leeway after exp.
	f.clock.Advance(time.Hour + 10*time.Second)
	if res := f.verify(t, Request{Token: tok}); res.Code != api.CodeValid {
		t.Errorf("10s after exp: %s, want VALID (leeway)", res.Code)
	}
}

// TestJWTBadInput covers each way a JWT is refused, with its code.
func TestJWTBadInput(t *testing.T) {
	f := newJWTFixture(t)
	good := f.sign(t, f.claims())
	parts := strings.Split(good, ".")
	jwk := f.signer.JWKS().Keys[0]
	pubJSON, _ := jwk.MarshalJSON()
	ecBytes, _ := jwk.Key.(*ecdsa.PublicKey).Bytes()
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	now := f.clock.Now()
	untyped, err := f.signer.Sign(f.claims(), "JWT")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		token  string
		req    Request
		want   api.Code
		noInfo bool
	}{
		{"malformed", "eyJhbGciOi.x.y", Request{}, api.CodeNotFound, true},
		{"truncated", good[:len(good)-20], Request{}, api.CodeNotFound, true},
		{"truncated to two parts", parts[0] + "." + parts[1], Request{}, api.CodeNotFound, true},
		{"alg none", b64(`{"alg":"none","kid":"`+jwk.KeyID+`","typ":"at+jwt"}`) + "." + parts[1] + ".", Request{}, api.CodeNotFound, true},
		{"alg none with signature", b64(`{"alg":"none","kid":"`+jwk.KeyID+`","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], Request{}, api.CodeNotFound, true},
		{"HS256 keyed with the public JWK", forgeJWT(t, jose.HS256, pubJSON, jwk.KeyID, string(payload)), Request{}, api.CodeNotFound, true},
		{"HS256 keyed with the public point", forgeJWT(t, jose.HS256, ecBytes, jwk.KeyID, string(payload)), Request{}, api.CodeNotFound, true},
		{"unknown kid", forgeJWT(t, jose.ES256, otherEC, "unknown", string(payload)), Request{}, api.CodeNotFound, true},
		{"foreign key under our kid", forgeJWT(t, jose.ES256, otherEC, jwk.KeyID, string(payload)), Request{}, api.CodeNotFound, true},
		{"key of the wrong type", forgeJWT(t, jose.RS256, otherRSA, jwk.KeyID, string(payload)), Request{}, api.CodeNotFound, true},
		{"wrong typ", untyped, Request{}, api.CodeNotFound, true},
		{"wrong issuer", f.sign(t, with(f.claims(), "iss", "https://evil.example")), Request{}, api.CodeNotFound, true},
		{"no issuer", f.sign(t, with(f.claims(), "iss", nil)), Request{}, api.CodeNotFound, true},
		{"wrong audience", good, Request{Audience: "https://other.example"}, api.CodeNotFound, true},
		{"unregistered audience", f.sign(t, with(f.claims(), "aud", "https://unknown.example")), Request{}, api.CodeNotFound, true},
		{"unregistered audience requested", f.sign(t, with(f.claims(), "aud", "https://unknown.example")), Request{Audience: "https://unknown.example"}, api.CodeNotFound, true},
		{"no jti", f.sign(t, with(f.claims(), "jti", nil)), Request{}, api.CodeNotFound, true},
		{"no exp", f.sign(t, with(f.claims(), "exp", nil)), Request{}, api.CodeNotFound, true},
		{"exp not a number", f.sign(t, with(f.claims(), "exp", "tomorrow")), Request{}, api.CodeNotFound, true},
		{"expired", f.sign(t, with(f.claims(), "exp", now.Add(-time.Minute).Unix())), Request{}, api.CodeExpired, false},
		{"not yet valid (nbf)", f.sign(t, with(f.claims(), "nbf", now.Add(5*time.Minute).Unix())), Request{}, api.CodeNotFound, true},
		{"issued in the future", f.sign(t, with(f.claims(), "iat", now.Add(5*time.Minute).Unix())), Request{}, api.CodeNotFound, true},
		{"insufficient scope", good, Request{Scopes: []string{"read", "admin"}}, api.CodeInsufficientScope, false},
		{"no scope claim", f.sign(t, with(f.claims(), "scope", nil)), Request{Scopes: []string{"read"}}, api.CodeInsufficientScope, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Token = tt.token
			res := f.verify(t, req)
			if res.Code != tt.want || (res.Token == nil) != tt.noInfo {
				t.Errorf("Verify = %s, token info %+v; want %s (info hidden: %v)", res.Code, res.Token, tt.want, tt.noInfo)
			}
		})
	}
}

// TestJWTRevokedGovernsTheNextAnswer checks that a revocation written to
// the store governs the very next verification, although the engine had
// cached the jti as not revoked: the store announces it at commit. It
// stays revoked after the negative TTL.
func TestJWTRevokedGovernsTheNextAnswer(t *testing.T) {
	f := newJWTFixture(t)
	c := f.claims()
	tok := f.sign(t, c)
	jti := c["jti"].(string)
	exp := time.Unix(c["exp"].(int64), 0)
	if res := f.verify(t, Request{Token: tok}); res.Code != api.CodeValid {
		t.Fatalf("before revocation: %s", res.Code)
	}
	ev := store.Event{Time: f.clock.Now(), Actor: "test", Action: "jwt.revoke", TargetType: "jwt", TargetID: jti}
	if err := f.db.RevokeJTI(t.Context(), jti, exp, ev); err != nil {
		t.Fatal(err)
	}
	if res := f.verify(t, Request{Token: tok}); res.Code != api.CodeRevoked || res.Token == nil || res.Token.ID != jti {
		t.Errorf("right after the revocation: %s %+v, want REVOKED", res.Code, res.Token)
	}
	f.clock.Advance(5 * time.Second)
	if res := f.verify(t, Request{Token: tok}); res.Code != api.CodeRevoked {
		t.Errorf("after the negative TTL: %s, want REVOKED", res.Code)
	}
}

// TestJWTDisabled checks that an engine without JWTConfig knows no JWTs.
func TestJWTDisabled(t *testing.T) {
	f := newJWTFixture(t)
	tok := f.sign(t, f.claims())
	e := New(Config{DB: f.db, Now: f.clock.Now})
	var res Result
	if err := e.Verify(t.Context(), &Request{Token: tok}, &res); err != nil || res.Code != api.CodeNotFound {
		t.Errorf("Verify without JWT config = %s, %v; want NOT_FOUND", res.Code, err)
	}
}

// TestJWTNeverForTokend: a JWT whose audience is tokend's own API must not
// verify, so that no signed token can ever stand in for an admin key.
func TestJWTNeverForTokend(t *testing.T) {
	f := newJWTFixture(t)
	keys := apikey.NewService(apikey.Config{DB: f.db, Now: f.clock.Now})
	if err := keys.EnsureSystemAPI(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok := f.sign(t, with(f.claims(), "aud", apikey.SystemAudience, "scope", apikey.ScopeAdmin))
	for _, aud := range []string{"", apikey.SystemAudience} {
		if res := f.verify(t, Request{Token: tok, Audience: aud}); res.Code != api.CodeNotFound || res.Token != nil {
			t.Errorf("JWT for tokend's audience (requested %q) = %s, want NOT_FOUND", aud, res.Code)
		}
	}
}

// TestJWTClaimNamesAreExact: claim names are matched case-sensitively and
// a duplicated claim is refused, not resolved (review item I3), so that a
// payload means the same here as in every strict verifier. Such tokens
// verify as NOT_FOUND, like any token tokend did not issue.
func TestJWTClaimNamesAreExact(t *testing.T) {
	f := newJWTFixture(t)
	now := f.clock.Now()
	good := fmt.Sprintf(`{"iss":%q,"sub":"c","aud":"https://pay.example","exp":%d,"iat":%d,"jti":"j1","client_id":"c","scope":"read"}`,
		issuer, now.Add(time.Hour).Unix(), now.Unix())
	cases := map[string]string{
		"upper-case ISS":    strings.Replace(good, `"iss"`, `"ISS"`, 1),
		"mixed-case Exp":    strings.Replace(good, `"exp"`, `"Exp"`, 1),
		"upper-case JTI":    strings.Replace(good, `"jti"`, `"JTI"`, 1),
		"duplicate exp":     strings.Replace(good, `"iat"`, fmt.Sprintf(`"exp":%d,"iat"`, now.Add(-time.Hour).Unix()), 1),
		"duplicate aud":     strings.Replace(good, `"jti"`, `"aud":"https://other.example","jti"`, 1),
		"duplicate unknown": strings.Replace(good, `"jti"`, `"x":1,"x":2,"jti"`, 1),
	}
	if res := f.verify(t, Request{Token: f.sign(t, json.RawMessage(good))}); res.Code != api.CodeValid {
		t.Fatalf("the exact payload: %s, want VALID", res.Code)
	}
	for name, payload := range cases {
		res := f.verify(t, Request{Token: f.sign(t, json.RawMessage(payload))})
		if res.Code != api.CodeNotFound || res.Token != nil {
			t.Errorf("%s: code %s, token %+v; want NOT_FOUND without a token", name, res.Code, res.Token)
		}
	}
}
