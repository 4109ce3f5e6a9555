package tokenauth_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
)

func TestJWTAccessTokenVerifiedLocally(t *testing.T) {
	e := newEnv(t, nil)
	cc := e.oauthClient(t, "jwt", "invoices:read")
	for range 3 {
		tok := token(t, cc)
		a := e.do(t, "GET", "/invoices", bearer(tok))
		if a.status != http.StatusOK {
			t.Fatalf("status %d, body %s", a.status, a.body)
		}
		claims, err := credential.UnverifiedAccessClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		p := a.principal(t)
		if p.Kind != tokenauth.KindJWTAccessToken || p.Subject != cc.ClientID || p.ClientID != cc.ClientID ||
			p.TokenID != claims.ID || !p.HasScope("invoices:read") || !p.ExpiresAt.Equal(claims.Expiry.Time()) {
			t.Errorf("principal %+v", p)
		}
	}
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("tokend's /v1/verify asked %d times for JWTs", n)
	}
	if n := e.calls.calls("/oauth2/jwks.json"); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
	if n := e.calls.calls("/.well-known/oauth-authorization-server"); n != 1 {
		t.Errorf("metadata fetched %d times, want 1", n)
	}
}

// TestJWTRefusals signs tokens with tokend's own key, so that only the
// property under test is wrong.
func TestJWTRefusals(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now()
	good := func() map[string]any {
		return map[string]any{"iss": e.Issuer, "sub": "cli_x", "aud": audience, "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "jti": "jti-1", "client_id": "cli_x", "scope": "invoices:read"}
	}
	sign := func(typ string, mod func(map[string]any)) string {
		c := good()
		if mod != nil {
			mod(c)
		}
		tok, err := e.Signer.Sign(c, typ)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := sign("at+jwt", nil)
	parts := strings.Split(valid, ".")
	h, p, s := parts[0], parts[1], parts[2]
	tests := []struct {
		name   string
		path   string
		token  string
		status int
		desc   string
	}{
		{"valid", "/invoices", valid, 200, ""},
		{"typ application/AT+JWT", "/invoices", sign("application/AT+JWT", nil), 200, ""},
		{"typ JWT", "/invoices", sign("JWT", nil), 401, "the token is not a JWT access token"},
		{"no typ", "/invoices", sign("", nil), 401, "the token is not a JWT access token"},
		{"wrong issuer", "/invoices", sign("at+jwt", func(c map[string]any) { c["iss"] = "https://evil.example.com" }), 401,
			"the token is unknown or not meant for this resource"},
		{"wrong audience", "/invoices", sign("at+jwt", func(c map[string]any) { c["aud"] = "https://other.example.com" }), 401,
			"the token is unknown or not meant for this resource"},
		{"audience list", "/invoices", sign("at+jwt", func(c map[string]any) { c["aud"] = []string{"x", audience} }), 200, ""},
		{"other route's audience", "/reports", valid, 401, "the token is unknown or not meant for this resource"},
		{"expired beyond leeway", "/invoices", sign("at+jwt", func(c map[string]any) { c["exp"] = now.Add(-31 * time.Second).Unix() }), 401,
			"the token has expired"},
		{"expired within leeway", "/invoices", sign("at+jwt", func(c map[string]any) { c["exp"] = now.Add(-29 * time.Second).Unix() }), 200, ""},
		{"not before", "/invoices", sign("at+jwt", func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() }), 401,
			"the token is not valid yet"},
		{"no jti", "/invoices", sign("at+jwt", func(c map[string]any) { delete(c, "jti") }), 401, "the token lacks a required claim"},
		{"no exp", "/invoices", sign("at+jwt", func(c map[string]any) { delete(c, "exp") }), 401, "the token lacks a required claim"},
		{"missing scope", "/invoices", sign("at+jwt", func(c map[string]any) { c["scope"] = "invoices:write" }), 403,
			"the token lacks a required scope"},
		{"payload swapped", "/invoices", h + "." + b64(`{"iss":"`+e.Issuer+`","sub":"x","aud":"`+audience+`","exp":9999999999,"jti":"j","client_id":"x","scope":"invoices:read"}`) + "." + s, 401,
			"the token's signature is not valid"},
		{"alg none", "/invoices", b64(`{"alg":"none","kid":"`+kid(t, h)+`","typ":"at+jwt"}`) + "." + p + ".AA", 401,
			"the token's signature is not valid"},
		{"alg HS256", "/invoices", b64(`{"alg":"HS256","kid":"`+kid(t, h)+`","typ":"at+jwt"}`) + "." + p + "." + s, 401,
			"the token's signature is not valid"},
		{"crit", "/invoices", b64(`{"alg":"ES256","kid":"`+kid(t, h)+`","typ":"at+jwt","crit":["exp"],"exp":1}`) + "." + p + "." + s, 401,
			"the token is malformed"},
		{"truncated signature", "/invoices", valid[:len(valid)-4], 401, "the token's signature is not valid"},
		{"unknown kid", "/invoices", b64(`{"alg":"ES256","kid":"nope","typ":"at+jwt"}`) + "." + p + "." + s, 401,
			"the token is signed with an unknown key"},
		{"padding", "/invoices", valid + "=", 401, "the token is malformed"},
		{"DPoP-bound as bearer", "/invoices", sign("at+jwt", func(c map[string]any) {
			c["cnf"] = map[string]string{"jkt": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}
		}), 401, "the token is bound to a DPoP key; it cannot be used as a bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "GET", tt.path, bearer(tt.token))
			if a.status != tt.status {
				t.Fatalf("status %d, want %d; %s", a.status, tt.status, a.body)
			}
			if tt.desc != "" && !strings.Contains(a.header.Get("WWW-Authenticate"), `error_description="`+tt.desc+`"`) {
				t.Errorf("WWW-Authenticate %q, want description %q", a.header.Get("WWW-Authenticate"), tt.desc)
			}
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// kid reads the kid of an encoded JWS header.
func kid(t *testing.T, h string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(raw), `"kid":"`)
	k, _, _ := strings.Cut(rest, `"`)
	return k
}

// TestSigningKeyRotationUnderLoad rotates tokend's signing key, lets the
// new key take over and the old one retire and expire, while clients
// keep getting fresh tokens and calling the resource server: not one
// request may fail.
func TestSigningKeyRotationUnderLoad(t *testing.T) {
	e := newEnv(t, nil)
	cc := e.oauthClient(t, "jwt", "invoices:read")
	var (
		stop            atomic.Bool
		requests, fails atomic.Int64
		wg              sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				a := e.do(t, "GET", "/invoices", bearer(token(t, cc)))
				requests.Add(1)
				if a.status != http.StatusOK {
					fails.Add(1)
					t.Errorf("status %d: %s %s", a.status, a.header.Get("WWW-Authenticate"), a.body)
				}
			}
		})
	}
	step := func(d time.Duration) {
		time.Sleep(50 * time.Millisecond) // let requests run between steps
		e.Clock.Advance(d)
		e.clock.Advance(d)
	}
	old := e.signingKid(t)
	if _, err := e.Client.RotateSigningKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	step(30 * time.Minute)
	step(30*time.Minute + time.Second) // the new key signs, the old one is retired
	if e.signingKid(t) == old {
		t.Fatal("the new key does not sign")
	}
	// Past the old key's expiry (retirement + 24h), in steps shorter than
	// the tokens' lifetime, so that no token expires in flight.
	step(12 * time.Hour)
	step(12*time.Hour + time.Second)
	if _, err := e.Client.RotateSigningKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	step(time.Hour + time.Second)
	step(0)
	stop.Store(true)
	wg.Wait()
	if fails.Load() != 0 || requests.Load() < 8 {
		t.Errorf("%d of %d requests failed", fails.Load(), requests.Load())
	}
}

// signingKid is the kid of the key tokend signs with now.
func (e *env) signingKid(t *testing.T) string {
	t.Helper()
	tok, err := e.Signer.Sign(map[string]any{}, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := strings.Cut(tok, ".")
	return kid(t, h)
}

// TestUnknownKidRefetchesTheJWKS: a token signed by a key the cached
// JWKS does not hold yet makes one refetch, and an unknown kid cannot
// make tokenauth refetch more than once per JWKSRefreshInterval.
func TestUnknownKidRefetchesTheJWKS(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.JWKSRefreshInterval = 10 * time.Second })
	cc := e.oauthClient(t, "jwt", "invoices:read")
	if a := e.do(t, "GET", "/invoices", bearer(token(t, cc))); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if _, err := e.Client.RotateSigningKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	// tokend's clock moves past the lead time; the resource server's only
	// by the refresh interval: its cached JWKS (max-age 60s) is still
	// fresh, and lacks the new key.
	e.Clock.Advance(time.Hour + time.Second)
	e.clock.Advance(10 * time.Second)
	if a := e.do(t, "GET", "/invoices", bearer(token(t, cc))); a.status != 200 {
		t.Fatalf("token of the new key: %d %s", a.status, a.body)
	}
	if n := e.calls.calls("/oauth2/jwks.json"); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
	forged := b64(`{"alg":"ES256","kid":"nope","typ":"at+jwt"}`) + ".e30.AAAA"
	for range 5 {
		if a := e.do(t, "GET", "/invoices", bearer(forged)); a.status != 401 {
			t.Fatalf("unknown kid: %d", a.status)
		}
	}
	if n := e.calls.calls("/oauth2/jwks.json"); n != 2 {
		t.Errorf("unknown kids fetched the JWKS %d times within the interval, want 2 in all", n)
	}
	e.clock.Advance(10 * time.Second)
	e.do(t, "GET", "/invoices", bearer(forged))
	if n := e.calls.calls("/oauth2/jwks.json"); n != 3 {
		t.Errorf("JWKS fetched %d times after the interval, want 3", n)
	}
}

func TestJWTRevocationCheck(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.RevocationCheckInterval = 10 * time.Second })
	cc := e.oauthClient(t, "jwt", "invoices:read")
	tok := token(t, cc)
	if a := e.do(t, "GET", "/invoices", bearer(tok)); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	form := url.Values{"token": {tok}}
	req, _ := http.NewRequest("POST", e.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cc.ClientID), url.QueryEscape(cc.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	e.clock.Advance(9 * time.Second)
	if a := e.do(t, "GET", "/invoices", bearer(tok)); a.status != 200 {
		t.Fatalf("within the interval: %d %s", a.status, a.body)
	}
	if n := e.calls.calls("/v1/verify"); n != 1 {
		t.Errorf("tokend asked %d times within the interval, want 1", n)
	}
	e.clock.Advance(time.Second)
	a := e.do(t, "GET", "/invoices", bearer(tok))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "the token has been revoked") {
		t.Fatalf("after the interval: %d %v", a.status, a.header)
	}
}

func TestJWKSUnreachableFailsClosed(t *testing.T) {
	e := newEnv(t, nil)
	tok := token(t, e.oauthClient(t, "jwt", "invoices:read"))
	down := closedURL(t)
	auth, err := tokenauth.New(tokenauth.Config{URL: down, JWKSURL: down + "/oauth2/jwks.json", Issuer: e.Issuer,
		Audience: audience, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth
	e.rs.Config.Handler = e.mux()
	if a := e.do(t, "GET", "/invoices", bearer(tok)); a.status != 503 || a.header.Get("Retry-After") != "5" {
		t.Errorf("%d %v %s", a.status, a.header, a.body)
	}
}

// TestDPoPBoundKeyAsBearer: an API key bound to a DPoP key, sent as a
// bearer token, is refused (tokend answers INVALID_DPOP_PROOF).
func TestDPoPBoundKeyAsBearer(t *testing.T) {
	e := newEnv(t, nil)
	k := e.key(t, func(r *api.CreateKeyRequest) { r.DPoPJWK = servertest.NewDPoPKey(t).PublicJWK() })
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != http.StatusUnauthorized ||
		!strings.Contains(a.header.Get("WWW-Authenticate"), "bound to a DPoP key") {
		t.Errorf("a DPoP-bound key as bearer: %d %q, want 401 naming the binding", a.status, a.header.Get("WWW-Authenticate"))
	}
}
