package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	tokenoauth "github.com/tokend/tokend/internal/oauth"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// oauthClient creates an OAuth client of f's API with the scopes read and
// write, adjusting the request with mod.
func (f *fixture) oauthClient(t *testing.T, mod func(*api.CreateClientRequest)) *api.CreatedClient {
	t.Helper()
	req := api.CreateClientRequest{Name: "billing worker", APIScopes: map[string][]string{f.api.ID: {"read", "write"}}}
	if mod != nil {
		mod(&req)
	}
	c, err := f.Client.CreateClient(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

func (f *fixture) ccConfig(c *api.CreatedClient, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: f.URL + "/oauth2/token",
		Scopes: scopes, AuthStyle: oauth2.AuthStyleInHeader}
}

// resourceServer is zitadel/oidc's resource-server client, configured by
// discovery, authenticating as c.
func (f *fixture) resourceServer(t *testing.T, c *api.CreatedClient) rs.ResourceServer {
	t.Helper()
	r, err := rs.NewResourceServerClientCredentials(t.Context(), f.Issuer, c.Client.ID, c.Secret)
	if err != nil {
		t.Fatalf("NewResourceServerClientCredentials: %v", err)
	}
	return r
}

func introspect(t *testing.T, r rs.ResourceServer, token string) *oidc.IntrospectionResponse {
	t.Helper()
	resp, err := rs.Introspect[*oidc.IntrospectionResponse](t.Context(), r, token)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	return resp
}

type revoker struct{ endpoint string }

func (r revoker) GetRevokeEndpoint() string { return r.endpoint }
func (r revoker) HttpClient() *http.Client  { return http.DefaultClient }

// revoke revokes token through zitadel/oidc's client, authenticating as c.
func (f *fixture) revoke(t *testing.T, c *api.CreatedClient, token string) {
	t.Helper()
	err := client.CallRevokeEndpoint(t.Context(), client.RevokeRequest{Token: token, ClientID: c.Client.ID},
		httphelper.AuthorizeBasic(c.Client.ID, c.Secret), revoker{f.URL + "/oauth2/revoke"})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

// revokeAs posts a revocation of token authenticated as c and returns the
// status and the RFC 6749 error code of the answer.
func (f *fixture) revokeAs(t *testing.T, c *api.CreatedClient, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.URL+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.Client.ID, c.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error
}

func (f *fixture) verifyCode(t *testing.T, token string) api.Code {
	t.Helper()
	return f.verify(t, api.VerifyRequest{Token: token, Audience: f.api.Audience}).Code
}

// TestOAuthClientCredentials gets JWT and opaque access tokens with
// golang.org/x/oauth2, verifies them at /v1/verify, introspects them with
// zitadel/oidc and revokes them with zitadel/oidc.
func TestOAuthClientCredentials(t *testing.T) {
	f := newFixture(t)
	introspector := f.oauthClient(t, nil)
	for _, format := range []string{"jwt", "opaque"} {
		t.Run(format, func(t *testing.T) {
			c := f.oauthClient(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = format })
			// A client introspects only its own tokens (RFC 7662 §4).
			r := f.resourceServer(t, c)
			tok, err := f.ccConfig(c, "read").Token(t.Context())
			if err != nil {
				t.Fatalf("client credentials: %v", err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Expiry.IsZero() {
				t.Errorf("token = type %q, refresh %q, expiry %v", tok.TokenType, tok.RefreshToken, tok.Expiry)
			}
			if got := tok.Extra("scope"); got != "read" {
				t.Errorf("scope = %v, want read", got)
			}
			if isJWT := strings.Count(tok.AccessToken, ".") == 2; isJWT != (format == "jwt") {
				t.Errorf("access token %q is not %s", tok.AccessToken[:10], format)
			}
			if code := f.verifyCode(t, tok.AccessToken); code != api.CodeValid {
				t.Errorf("/v1/verify = %s, want VALID", code)
			}
			in := introspect(t, r, tok.AccessToken)
			if !in.Active || in.ClientID != c.Client.ID || in.Subject != c.Client.ID || in.Scope.String() != "read" ||
				len(in.Audience) != 1 || in.Audience[0] != f.api.Audience || in.Issuer != f.Issuer || in.Expiration.AsTime().IsZero() {
				t.Errorf("introspection = %+v", in)
			}
			// Another client may not revoke it (RFC 7009 §2.1), and it stays valid.
			if status, code := f.revokeAs(t, introspector, tok.AccessToken); status != 400 || code != "unauthorized_client" {
				t.Errorf("revocation by another client = %d %q, want 400 unauthorized_client", status, code)
			}
			if code := f.verifyCode(t, tok.AccessToken); code != api.CodeValid {
				t.Errorf("/v1/verify after another client's revocation = %s, want VALID", code)
			}
			f.revoke(t, c, tok.AccessToken)
			if in := introspect(t, r, tok.AccessToken); in.Active {
				t.Errorf("revoked token introspects active: %+v", in)
			}
			if code := f.verifyCode(t, tok.AccessToken); code != api.CodeRevoked {
				t.Errorf("/v1/verify after revocation = %s, want REVOKED", code)
			}
		})
	}
	t.Run("all scopes by default", func(t *testing.T) {
		tok, err := f.ccConfig(introspector).Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "read write" {
			t.Errorf("scope = %v, want all the client's scopes", got)
		}
	})
}

// TestOAuthRefreshRotation refreshes through golang.org/x/oauth2's
// TokenSource, then replays the old refresh token: the family is revoked.
func TestOAuthRefreshRotation(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, func(r *api.CreateClientRequest) {
		r.GrantTypes, r.AccessTokenFormat = []string{"client_credentials", "refresh_token"}, "opaque"
	})
	first, err := f.ccConfig(c, "read").Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if first.RefreshToken == "" {
		t.Fatal("no refresh token for a client with the refresh_token grant")
	}
	conf := &oauth2.Config{ClientID: c.Client.ID, ClientSecret: c.Secret,
		Endpoint: oauth2.Endpoint{TokenURL: f.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	expired := &oauth2.Token{AccessToken: first.AccessToken, RefreshToken: first.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	second, err := conf.TokenSource(t.Context(), expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("the refresh did not rotate the refresh token")
	}
	if code := f.verifyCode(t, second.AccessToken); code != api.CodeValid {
		t.Errorf("refreshed access token: %s, want VALID", code)
	}
	r := f.resourceServer(t, c)
	if in := introspect(t, r, second.RefreshToken); !in.Active || in.ClientID != c.Client.ID {
		t.Errorf("refresh token introspection = %+v", in)
	}
	if code := f.verifyCode(t, second.RefreshToken); code != api.CodeNotFound {
		t.Errorf("a refresh token at /v1/verify: %s, want NOT_FOUND", code)
	}

	// Replaying the first refresh token, after the race grace, revokes
	// the whole family.
	f.Clock.Advance(tokenoauth.RefreshRaceGrace)
	status, body := f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}},
		c.Client.ID, c.Secret)
	checkOAuthError(t, status, body, 400, "invalid_grant")
	for name, tok := range map[string]string{"first access": first.AccessToken, "second access": second.AccessToken} {
		if code := f.verifyCode(t, tok); code != api.CodeRevoked {
			t.Errorf("%s token after reuse: %s, want REVOKED", name, code)
		}
	}
	status, body = f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}},
		c.Client.ID, c.Secret)
	checkOAuthError(t, status, body, 400, "invalid_grant")
	if in := introspect(t, r, second.RefreshToken); in.Active {
		t.Error("the family's newest refresh token is still active")
	}
}

// TestOAuthRefreshJWTFamily checks that reuse also revokes JWT access
// tokens of the family, by jti.
func TestOAuthRefreshJWTFamily(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, func(r *api.CreateClientRequest) { r.GrantTypes = []string{"client_credentials", "refresh_token"} })
	first, err := f.ccConfig(c).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	refresh := func() (int, []byte) {
		return f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}},
			c.Client.ID, c.Secret)
	}
	status, body := refresh()
	if status != 200 {
		t.Fatalf("refresh: %d %s", status, body)
	}
	var second oauth2.Token
	json.Unmarshal(body, &second)
	f.Clock.Advance(tokenoauth.RefreshRaceGrace)
	status, body = refresh()
	checkOAuthError(t, status, body, 400, "invalid_grant")
	for _, tok := range []string{first.AccessToken, second.AccessToken} {
		if code := f.verifyCode(t, tok); code != api.CodeRevoked {
			t.Errorf("JWT of a revoked family: %s, want REVOKED", code)
		}
	}
}

// postForm posts form to path with HTTP Basic client authentication (when
// id is set) and returns the status and body.
func (f *fixture) postForm(t *testing.T, path string, form url.Values, id, secret string) (int, []byte) {
	t.Helper()
	return f.post(t, path, "application/x-www-form-urlencoded", form.Encode(), func(r *http.Request) {
		if id != "" {
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
	})
}

func (f *fixture) post(t *testing.T, path, contentType, body string, mod func(*http.Request)) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if mod != nil {
		mod(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 && path == "/oauth2/token" && (res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache") {
		t.Errorf("token answer without Cache-Control: no-store and Pragma: no-cache")
	}
	return res.StatusCode, b
}

func checkOAuthError(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil || status != wantStatus || e.Error != wantCode {
		t.Errorf("got %d %s, want %d %s", status, body, wantStatus, wantCode)
	}
}

// TestOAuthTokenErrors sends each kind of bad token request and checks the
// RFC 6749 §5.2 (or RFC 8707) answer.
func TestOAuthTokenErrors(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	other, err := f.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Other", Audience: "https://other.example",
		Scopes: []string{"read"}, KeyPrefix: "oth"})
	if err != nil {
		t.Fatal(err)
	}
	_ = other
	cc := "grant_type=client_credentials"
	for _, tt := range []struct {
		name        string
		contentType string
		body        string
		id, secret  string
		status      int
		code        string
	}{
		{"unknown grant type", "", "grant_type=password&username=a&password=b", c.Client.ID, c.Secret, 400, "unsupported_grant_type"},
		{"missing grant type", "", "scope=read", c.Client.ID, c.Secret, 400, "invalid_request"},
		{"unregistered resource", "", cc + "&resource=https%3A%2F%2Fnowhere.example", c.Client.ID, c.Secret, 400, "invalid_target"},
		{"resource of an API the client may not use", "", cc + "&resource=https%3A%2F%2Fother.example", c.Client.ID, c.Secret, 400, "invalid_target"},
		{"two resources", "", cc + "&resource=https%3A%2F%2Fpay.example&resource=https%3A%2F%2Fother.example", c.Client.ID, c.Secret, 400, "invalid_target"},
		{"scope not allowed", "", cc + "&scope=admin", c.Client.ID, c.Secret, 400, "invalid_scope"},
		{"wrong client secret", "", cc, c.Client.ID, "tkcs_wrong", 401, "invalid_client"},
		{"unknown client", "", cc, "cli_nobody", c.Secret, 401, "invalid_client"},
		{"no client authentication", "", cc, "", "", 401, "invalid_client"},
		{"two authentication methods", "", cc + "&client_id=" + c.Client.ID + "&client_secret=" + c.Secret, c.Client.ID, c.Secret, 400, "invalid_request"},
		{"duplicate parameters", "", cc + "&scope=read&scope=write", c.Client.ID, c.Secret, 400, "invalid_request"},
		{"duplicate grant type", "", cc + "&" + cc, c.Client.ID, c.Secret, 400, "invalid_request"},
		{"bad percent-encoding", "", cc + "&scope=%zz", c.Client.ID, c.Secret, 400, "invalid_request"},
		{"wrong content type", "application/json", `{"grant_type":"client_credentials"}`, c.Client.ID, c.Secret, 400, "invalid_request"},
		{"grant the client lacks", "", "grant_type=refresh_token&refresh_token=x", c.Client.ID, c.Secret, 400, "unauthorized_client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			var challenge string
			status, body := f.post(t, "/oauth2/token", ct, tt.body, func(r *http.Request) {
				if tt.id != "" {
					r.SetBasicAuth(tt.id, tt.secret)
				}
			})
			checkOAuthError(t, status, body, tt.status, tt.code)
			_ = challenge
		})
	}
	t.Run("invalid_client with Basic answers WWW-Authenticate", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/oauth2/token", strings.NewReader(cc))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.Client.ID, "tkcs_wrong")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		status, body := f.post(t, "/oauth2/token", "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {c.Client.ID}, "client_secret": {c.Secret}}.Encode(), nil)
		if status != 200 {
			t.Errorf("client_secret_post: %d %s", status, body)
		}
	})
	t.Run("refresh errors", func(t *testing.T) {
		rc := f.oauthClient(t, func(r *api.CreateClientRequest) { r.GrantTypes = []string{"client_credentials", "refresh_token"} })
		status, body := f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}}, rc.Client.ID, rc.Secret)
		checkOAuthError(t, status, body, 400, "invalid_request")
		status, body = f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"tkrt_nope"}}, rc.Client.ID, rc.Secret)
		checkOAuthError(t, status, body, 400, "invalid_grant")
	})
}

// TestOAuthBruteForce fails client authentication until tokend answers
// 429 with Retry-After, even for the right secret.
func TestOAuthBruteForce(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	form := url.Values{"grant_type": {"client_credentials"}}
	var status int
	for i := 0; i < 30 && status != 429; i++ {
		status, _ = f.postForm(t, "/oauth2/token", form, c.Client.ID, "tkcs_wrong")
	}
	if status != 429 {
		t.Fatalf("30 failures: last status %d, want 429", status)
	}
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.Client.ID, c.Secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("while blocked: status %d, Retry-After %q; want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	f.Clock.Advance(2 * time.Minute)
	if _, err := f.ccConfig(c).Token(t.Context()); err != nil {
		t.Errorf("after the block: %v", err)
	}
}

// TestOAuthIntrospectAnyToken introspects an API key and tokens with an
// admin key as bearer, and refuses an unauthenticated caller.
func TestOAuthIntrospectAnyToken(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	for _, tt := range []struct {
		token  string
		active bool
	}{
		{k.Secret, true},
		{"pay_nope", false},
		{"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", false},
	} {
		status, body := f.post(t, "/oauth2/introspect", "application/x-www-form-urlencoded", url.Values{"token": {tt.token}}.Encode(),
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.AdminKey) })
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil || status != 200 || in["active"] != tt.active {
			t.Errorf("introspect %.8s…: %d %s", tt.token, status, body)
		}
		if !tt.active && len(in) != 1 {
			t.Errorf("an inactive answer says more than active:false: %s", body)
		}
		if tt.active && (in["token_kind"] != "api_key" || in["scope"] != "read" || in["sub"] != "cust_1" || in["aud"] != f.api.Audience) {
			t.Errorf("API key introspection = %s", body)
		}
	}
	status, body := f.post(t, "/oauth2/introspect", "application/x-www-form-urlencoded", "token="+k.Secret, nil)
	checkOAuthError(t, status, body, 401, "invalid_client")
}

// TestOAuthMetadata checks both discovery documents.
func TestOAuthMetadata(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		res, err := http.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		res.Body.Close()
		want := map[string]any{"issuer": f.Issuer, "token_endpoint": f.Issuer + "/oauth2/token",
			"jwks_uri": f.Issuer + "/oauth2/jwks.json", "introspection_endpoint": f.Issuer + "/oauth2/introspect",
			"revocation_endpoint": f.Issuer + "/oauth2/revoke", "registration_endpoint": f.Issuer + "/oauth2/register"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %v", path, k, m[k], v)
			}
		}
		if g, _ := json.Marshal(m["grant_types_supported"]); string(g) != `["authorization_code","urn:ietf:params:oauth:grant-type:device_code","client_credentials","refresh_token"]` {
			t.Errorf("%s: grant_types_supported = %s", path, g)
		}
		for k, v := range map[string]string{"authorization_endpoint": "/oauth2/authorize", "userinfo_endpoint": "/oauth2/userinfo",
			"pushed_authorization_request_endpoint": "/oauth2/par", "device_authorization_endpoint": "/oauth2/device_authorization",
			"end_session_endpoint": "/oauth2/logout"} {
			if m[k] != f.Issuer+v {
				t.Errorf("%s: %s = %v", path, k, m[k])
			}
		}
		for k, v := range map[string]string{"response_types_supported": `["code"]`, "code_challenge_methods_supported": `["S256"]`,
			"id_token_signing_alg_values_supported": `["RS256","ES256"]`, "subject_types_supported": `["public"]`,
			"authorization_response_iss_parameter_supported": `true`,
			"token_endpoint_auth_methods_supported":          `["client_secret_basic","client_secret_post","private_key_jwt","none"]`} {
			if g, _ := json.Marshal(m[k]); string(g) != v {
				t.Errorf("%s: %s = %s, want %s", path, k, g, v)
			}
		}
	}
	// zitadel/oidc discovers tokend from the OIDC document.
	cfg, err := client.Discover(t.Context(), f.Issuer, http.DefaultClient)
	if err != nil || cfg.IntrospectionEndpoint != f.Issuer+"/oauth2/introspect" {
		t.Errorf("Discover = %+v, %v", cfg, err)
	}
}

var _ = context.Background

// TestOAuthNoSecretsAtRest issues, refreshes, introspects and revokes
// OAuth tokens, then searches the database file and the log for the
// client secret, the opaque access tokens and the refresh tokens.
func TestOAuthNoSecretsAtRest(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, func(r *api.CreateClientRequest) {
		r.GrantTypes, r.AccessTokenFormat = []string{"client_credentials", "refresh_token"}, "opaque"
	})
	first, err := f.ccConfig(c, "read").Token(t.Context())
	if err != nil || first.RefreshToken == "" {
		t.Fatalf("token: %v, got a refresh token: %v", err, first.RefreshToken != "")
	}
	conf := &oauth2.Config{ClientID: c.Client.ID, ClientSecret: c.Secret,
		Endpoint: oauth2.Endpoint{TokenURL: f.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	second, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: first.RefreshToken,
		Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	introspect(t, f.resourceServer(t, c), second.AccessToken)
	f.revoke(t, c, second.RefreshToken)
	f.DB.Close() // checkpoint the WAL into the main file
	db := readAll(t, f.DBPath, f.DBPath+"-wal")
	for _, secret := range []string{c.Secret, first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken} {
		random := secret[strings.IndexByte(secret, '_')+1:]
		if bytes.Contains(db, []byte(random)) || strings.Contains(f.Logs.String(), random) {
			t.Errorf("the secret %s…%s is stored or logged in clear", secret[:6], secret[len(secret)-4:])
		}
	}
	if !strings.Contains(f.Logs.String(), `"path":"/oauth2/token"`) {
		t.Error("the access log is missing; the search above proves nothing")
	}
}
