package oauth_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/credential"
	"golang.org/x/oauth2/clientcredentials"
)

// introspectAsKey introspects token with key as bearer.
func (e *env) introspectAsKey(t *testing.T, key, token string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	return do(t, req)
}

func (e *env) key(t *testing.T, req api.CreateKeyRequest) string {
	t.Helper()
	if req.Subject == "" {
		req.Subject = "cust_1"
	}
	k, err := e.Client.CreateKey(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k.Secret
}

func active(a answer) bool { return a.Active != nil && *a.Active }

// TestIntrospectionByClientAnswersOnlyForItsOwnTokens introspects every
// kind of token as an OAuth client: only tokens issued to that client are
// described; others, API keys and admin keys read as inactive with
// nothing more (L4, RFC 7662 §4).
func TestIntrospectionByClientAnswersOnlyForItsOwnTokens(t *testing.T) {
	e := newEnv(t)
	own := e.client(t, nil)
	other := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = "opaque" })
	ownJWT := e.token(t, own, "resource", e.billing.Audience)
	otherOpaque := e.token(t, other, "resource", e.billing.Audience)
	otherJWT := e.token(t, e.client(t, nil), "resource", e.billing.Audience)
	apiKey := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Scopes: []string{"read"}})
	for _, tt := range []struct {
		name, token string
		active      bool
	}{
		{"own JWT access token", ownJWT.AccessToken, true},
		{"own refresh token", ownJWT.RefreshToken, true},
		{"another client's opaque access token", otherOpaque.AccessToken, false},
		{"another client's refresh token", otherOpaque.RefreshToken, false},
		{"another client's JWT access token", otherJWT.AccessToken, false},
		{"an API key", apiKey, false},
		{"the admin key", e.AdminKey, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post(t, "/oauth2/introspect", own, form("token", tt.token))
			if a.Status != 200 || active(a) != tt.active {
				t.Fatalf("introspection: %d %v, want active %v", a.Status, a.Raw, tt.active)
			}
			if !tt.active && len(a.Raw) != 1 {
				t.Errorf("an inactive answer says more than active:false: %v", a.Raw)
			}
		})
	}
	// Admin keys keep full introspection.
	for _, tok := range []string{otherOpaque.AccessToken, otherJWT.AccessToken, otherOpaque.RefreshToken, apiKey} {
		if a := e.introspectAsKey(t, e.AdminKey, tok); !active(a) {
			t.Errorf("admin introspection of %.8s…: %v, want active", tok, a.Raw)
		}
	}
}

// TestIntrospectionSpendsNoRateLimit introspects a rate-limited key more
// often than its limit allows: the key keeps its whole allowance (L4).
func TestIntrospectionSpendsNoRateLimit(t *testing.T) {
	e := newEnv(t)
	verifyKey := e.key(t, api.CreateKeyRequest{APIID: "api_tokend", Scopes: []string{"tokend:verify"}})
	k := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID,
		RateLimits: []api.RateLimit{{Name: "m", Limit: 2, Window: api.Duration(time.Minute)}}})
	for range 5 {
		if a := e.introspectAsKey(t, verifyKey, k); !active(a) {
			t.Fatalf("introspection: %d %v, want active", a.Status, a.Raw)
		}
	}
	for i := range 2 {
		if code := e.verifyCode(t, k, e.billing.Audience); code != api.CodeValid {
			t.Errorf("verification %d after 5 introspections: %s, want VALID", i+1, code)
		}
	}
}

// TestIntrospectionOfKeyWithoutCreditsIsInactive introspects keys with 0
// and 1 credits left: 0 reads inactive, and asking spends nothing (L4).
func TestIntrospectionOfKeyWithoutCreditsIsInactive(t *testing.T) {
	e := newEnv(t)
	empty := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Credits: &api.Credits{Remaining: 0}})
	if a := e.introspectAsKey(t, e.AdminKey, empty); active(a) {
		t.Errorf("a key with no credits left introspects %v, want inactive", a.Raw)
	}
	one := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Credits: &api.Credits{Remaining: 1}})
	for range 3 {
		if a := e.introspectAsKey(t, e.AdminKey, one); !active(a) {
			t.Fatalf("a key with a credit left introspects %v, want active", a.Raw)
		}
	}
	if code := e.verifyCode(t, one, e.billing.Audience); code != api.CodeValid {
		t.Errorf("verification after introspections: %s, want VALID (the credit still there)", code)
	}
}

// TestIntrospectionSaysWhenEachTokenWasIssued takes tokens with
// golang.org/x/oauth2's client_credentials, opaque and JWT, and a
// refresh token, and introspects each as the client and with an admin
// key (RFC 7662 §2.2): every answer has iat, the time the token was
// issued, with exp its TTL later and no nbf. After the client's TTLs
// change and a refresh, each token still tells its own issue time:
// iat is stored, not derived from exp.
func TestIntrospectionSaysWhenEachTokenWasIssued(t *testing.T) {
	e := newEnv(t)
	const accessTTL, refreshTTL = 10 * time.Minute, 2 * time.Hour
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			c := e.client(t, func(r *api.CreateClientRequest) {
				r.AccessTokenFormat = format
				r.AccessTokenTTL, r.RefreshTokenTTL = ptr(api.Duration(accessTTL)), ptr(api.Duration(refreshTTL))
			})
			cc := clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: e.URL + "/oauth2/token",
				EndpointParams: url.Values{"resource": {e.billing.Audience}}}
			issued := e.Clock.Now().Unix()
			tok, err := cc.Token(t.Context())
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("client_credentials: %v (refresh token %q)", err, tok.RefreshToken)
			}
			check := func(name, token string, iat int64, ttl time.Duration) {
				t.Helper()
				for who, a := range map[string]answer{"the client": e.post(t, "/oauth2/introspect", c, form("token", token)),
					"an admin key": e.introspectAsKey(t, e.AdminKey, token)} {
					got, _ := a.Raw["iat"].(float64)
					exp, _ := a.Raw["exp"].(float64)
					if !active(a) || int64(got) != iat || int64(exp) != iat+int64(ttl/time.Second) {
						t.Errorf("%s introspected by %s: %v; want iat %d and exp %s later", name, who, a.Raw, iat, ttl)
					}
					if nbf, ok := a.Raw["nbf"]; ok {
						t.Errorf("%s introspected by %s has nbf %v, which its token does not carry", name, who, nbf)
					}
				}
			}
			check("access token", tok.AccessToken, issued, accessTTL)
			check("refresh token", tok.RefreshToken, issued, refreshTTL)

			e.Clock.Advance(time.Minute)
			if _, err := e.Client.UpdateClient(t.Context(), c.Client.ID, api.UpdateClientRequest{
				AccessTokenTTL: ptr(api.Duration(time.Hour)), RefreshTokenTTL: ptr(api.Duration(3 * time.Hour))}); err != nil {
				t.Fatal(err)
			}
			check("access token after the client's TTLs changed", tok.AccessToken, issued, accessTTL)
			r := e.refresh(t, c, tok.RefreshToken)
			if r.Status != 200 {
				t.Fatalf("refresh: %d %s", r.Status, r.Error)
			}
			check("access token of the refresh", r.AccessToken, issued+60, time.Hour)
			if a := e.introspectAsKey(t, e.AdminKey, r.RefreshToken); int64(a.Raw["iat"].(float64)) != issued+60 {
				t.Errorf("the rotated refresh token: %v, want iat %d", a.Raw, issued+60)
			}
		})
	}
}

// TestIntrospectionNamesEachOpaqueToken introspects the opaque tokens
// tokend issues over HTTP (RFC 7662 §2.2): an opaque access token taken
// with golang.org/x/oauth2's client_credentials, an API key before and
// after a rotation, and a personal access token. Each active answer has
// jti, the id tokend names the token by (for the access token the target
// of its access_token.revoke event; for keys and personal access tokens
// the key's id, which a rotated key's secrets share), and iat, when the
// presented secret was issued. No answer holds the token, its secret
// part or its hash.
func TestIntrospectionNamesEachOpaqueToken(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.client(t, func(r *api.CreateClientRequest) {
		r.AccessTokenFormat, r.AccessTokenTTL = "opaque", ptr(api.Duration(24*time.Hour))
		r.RefreshTokenTTL = ptr(api.Duration(48 * time.Hour))
	})
	cc := clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: e.URL + "/oauth2/token",
		EndpointParams: url.Values{"resource": {e.billing.Audience}}}
	issued := e.Clock.Now().Unix()
	tok, err := cc.Token(ctx)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("client_credentials: %v (refresh token %q)", err, tok.RefreshToken)
	}

	e.Clock.Advance(time.Minute)
	key, err := e.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: e.billing.ID, Subject: "cust_1", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Hour)
	rotated, err := e.Client.RotateKey(ctx, key.Key.ID, api.RotateKeyRequest{Grace: api.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	p := api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}}
	if _, err := e.Client.UpdateAPI(ctx, e.billing.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	alice, err := e.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Password: "violet-harbour-lantern-42"})
	if err != nil {
		t.Fatal(err)
	}
	pat, err := e.Client.CreateUserToken(ctx, alice.ID, api.CreateTokenRequest{APIID: e.billing.ID, Name: "ci",
		Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}

	check := func(name, token, jti string, iat int64, as ...func() answer) {
		t.Helper()
		for i, introspect := range as {
			a := introspect()
			if got, _ := a.Raw["jti"].(string); !active(a) || got != jti {
				t.Errorf("%s (caller %d): %v, want active with jti %q", name, i, a.Raw, jti)
			}
			if got, _ := a.Raw["iat"].(float64); int64(got) != iat {
				t.Errorf("%s (caller %d): iat %v, want %d", name, i, a.Raw["iat"], iat)
			}
			body, _ := json.Marshal(a.Raw)
			h := credential.Hash(token)
			for _, secret := range []string{token, token[strings.LastIndexByte(token, '_')+1:], hex.EncodeToString(h[:]),
				base64.StdEncoding.EncodeToString(h[:]), base64.RawURLEncoding.EncodeToString(h[:])} {
				if strings.Contains(string(body), secret) {
					t.Errorf("%s (caller %d): the answer %s holds secret material %.8s…", name, i, body, secret)
				}
			}
		}
	}
	asAdmin := func(token string) func() answer {
		return func() answer { return e.introspectAsKey(t, e.AdminKey, token) }
	}
	asClient := func(token string) func() answer {
		return func() answer { return e.post(t, "/oauth2/introspect", c, form("token", token)) }
	}

	// The tokens' jtis are not known yet: revoking them says them.
	first := e.introspectAsKey(t, e.AdminKey, tok.AccessToken)
	jti, _ := first.Raw["jti"].(string)
	check("opaque access token", tok.AccessToken, jti, issued, asClient(tok.AccessToken), asAdmin(tok.AccessToken))
	rjti, _ := e.introspectAsKey(t, e.AdminKey, tok.RefreshToken).Raw["jti"].(string)
	check("refresh token", tok.RefreshToken, rjti, issued, asClient(tok.RefreshToken), asAdmin(tok.RefreshToken))
	check("API key's old secret, in its rotation grace", key.Secret, key.Key.ID, key.Key.CreatedAt.Unix(), asAdmin(key.Secret))
	check("API key's new secret", rotated.Secret, key.Key.ID, key.Key.CreatedAt.Add(time.Hour).Unix(), asAdmin(rotated.Secret))
	check("personal access token", pat.Secret, pat.Token.ID, pat.Token.CreatedAt.Unix(), asAdmin(pat.Secret))

	if a := e.post(t, "/oauth2/revoke", c, form("token", tok.AccessToken)); a.Status != 200 {
		t.Fatalf("revoke: %d %v", a.Status, a.Raw)
	}
	ev, err := e.Client.ListAudit(ctx, client.AuditFilter{Action: "access_token.revoke"})
	if err != nil || len(ev.Events) != 1 {
		t.Fatalf("ListAudit(access_token.revoke) = %+v, %v; want one event", ev, err)
	}
	if jti == "" || ev.Events[0].TargetType != "access_token" || ev.Events[0].TargetID != jti {
		t.Errorf("the revocation names %s %s; introspection answered jti %q", ev.Events[0].TargetType, ev.Events[0].TargetID, jti)
	}

	// A refresh token's revocation targets its family and names the
	// token itself in refresh_token_id: that is its jti.
	if a := e.post(t, "/oauth2/revoke", c, form("token", tok.RefreshToken)); a.Status != 200 {
		t.Fatalf("revoke the refresh token: %d %v", a.Status, a.Raw)
	}
	ev, err = e.Client.ListAudit(ctx, client.AuditFilter{Action: "refresh_token.revoke"})
	if err != nil || len(ev.Events) != 1 {
		t.Fatalf("ListAudit(refresh_token.revoke) = %+v, %v; want one event", ev, err)
	}
	var named struct {
		ID string `json:"refresh_token_id"`
	}
	if err := json.Unmarshal(ev.Events[0].After, &named); err != nil || rjti == "" || named.ID != rjti {
		t.Errorf("the refresh token's revocation names %s (%v); introspection answered jti %q", ev.Events[0].After, err, rjti)
	}
}
