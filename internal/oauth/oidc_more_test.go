package oauth_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
	"golang.org/x/oauth2"
)

// TestDeviceFlowWithXOAuth2 runs RFC 8628 with oauth2.Config.DeviceAuth
// and DeviceAccessToken; the person's approval goes through the domain
// functions the /device page calls. A wrong code is refused, and too many
// wrong codes from one address are throttled.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "openid read", "urn:ietf:params:oauth:grant-type:device_code")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), Scopes: []string{"openid", "read"}}
	if cfg.Endpoint.DeviceAuthURL != e.Issuer+"/oauth2/device_authorization" {
		t.Fatalf("discovered device endpoint %q", cfg.Endpoint.DeviceAuthURL)
	}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if len(da.UserCode) != 9 || da.UserCode[4] != '-' || !strings.HasPrefix(da.VerificationURIComplete, e.Issuer+"/device?user_code=") {
		t.Errorf("device authorization = %+v", da)
	}
	// The client polls before the person answered.
	pending := e.post(t, "/oauth2/token", nil, form("grant_type", oauth.GrantDeviceCode, "device_code", da.DeviceCode, "client_id", id))
	if pending.Status != 400 || pending.Error != "authorization_pending" {
		t.Errorf("first poll: %d %s, want authorization_pending", pending.Status, pending.Error)
	}
	fast := e.post(t, "/oauth2/token", nil, form("grant_type", oauth.GrantDeviceCode, "device_code", da.DeviceCode, "client_id", id))
	if fast.Error != "slow_down" {
		t.Errorf("poll at once again: %s, want slow_down", fast.Error)
	}
	e.Clock.Advance(oauth.DevicePollInterval)

	// The person types the code in lower case without the dash.
	typed := strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))
	req, err := e.OAuth.LookupUserCode(ctx, typed, "192.0.2.7")
	if err != nil {
		t.Fatalf("LookupUserCode(%q): %v", typed, err)
	}
	if req.Consent.ClientName != "CLI" || req.Consent.APIName != "Billing" {
		t.Errorf("consent text = %+v", req.Consent)
	}
	who := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now(), AMR: []string{"pwd"}}
	if err := e.OAuth.DecideDevice(ctx, auditActor(alice), req.UserCode, who, true); err != nil {
		t.Fatal(err)
	}
	if err := e.OAuth.DecideDevice(ctx, auditActor(alice), req.UserCode, who, false); err == nil {
		t.Error("a decided code was decided again")
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience, "read"); c != api.CodeValid {
		t.Errorf("device access token verifies as %s", c)
	}
	again := e.post(t, "/oauth2/token", nil, form("grant_type", oauth.GrantDeviceCode, "device_code", da.DeviceCode, "client_id", id))
	if again.Error != "invalid_grant" {
		t.Errorf("redeeming the device code twice: %s, want invalid_grant", again.Error)
	}
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience); c == api.CodeValid {
		t.Error("a device code used twice left its token valid")
	}

	// Guessing: ten wrong codes, then the address is throttled even for
	// a right one.
	da2, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range oauth.UserCodeFailures {
		_, err := e.OAuth.LookupUserCode(ctx, "BBBB-BBB"+string(rune('B'+i%2)), "198.51.100.9")
		if e, ok := errors.AsType[*oauth.Error](err); !ok || e.Code != "invalid_grant" {
			t.Fatalf("wrong code %d: %v, want invalid_grant", i, err)
		}
	}
	_, err = e.OAuth.LookupUserCode(ctx, da2.UserCode, "198.51.100.9")
	if e, ok := errors.AsType[*oauth.Error](err); !ok || e.Status != 429 {
		t.Errorf("after too many wrong codes: %v, want 429", err)
	}
	if _, err := e.OAuth.LookupUserCode(ctx, da2.UserCode, "192.0.2.8"); err != nil {
		t.Errorf("another address: %v", err)
	}
	// Denied and expired requests answer so.
	r2, _ := e.OAuth.LookupUserCode(ctx, da2.UserCode, "192.0.2.8")
	if err := e.OAuth.DecideDevice(ctx, auditActor(alice), r2.UserCode, who, false); err != nil {
		t.Fatal(err)
	}
	denied := e.post(t, "/oauth2/token", nil, form("grant_type", oauth.GrantDeviceCode, "device_code", da2.DeviceCode, "client_id", id))
	if denied.Error != "access_denied" {
		t.Errorf("denied: %s", denied.Error)
	}
	da3, _ := cfg.DeviceAuth(ctx)
	e.Clock.Advance(oauth.DeviceCodeTTL)
	expired := e.post(t, "/oauth2/token", nil, form("grant_type", oauth.GrantDeviceCode, "device_code", da3.DeviceCode, "client_id", id))
	if expired.Error != "expired_token" {
		t.Errorf("expired: %s", expired.Error)
	}
}

// TestAuthorizeRefusals checks what an authorization request is
// answered with: problems with the client or its redirect URI are never
// redirected; later ones go back to the client with iss and state.
func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "openid", "authorization_code")
	internal, err := e.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Internal", Audience: "https://internal.example",
		Scopes: []string{"secret"}, KeyPrefix: "intl"})
	if err != nil {
		t.Fatal(err)
	}
	base := form("client_id", id, "redirect_uri", "https://app.example/cb", "response_type", "code", "state", "xyz",
		"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256", "scope", "openid")
	with := func(kv ...string) oauth.Form {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string{}, vs...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		f, err := oauth.ParseForm([]byte(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name string
		kv   []string
	}{
		{"unknown client", []string{"client_id", "cli_nope"}},
		{"unregistered redirect", []string{"redirect_uri", "https://evil.example/cb"}},
		{"redirect with another path", []string{"redirect_uri", "https://app.example/cb/x"}},
		{"loopback on another host", []string{"redirect_uri", "http://127.0.0.2/callback"}},
		{"fragment", []string{"redirect_uri", "https://app.example/cb#x"}},
	} {
		_, err := e.OAuth.Authorize(ctx, with(tc.kv...), testIP)
		if _, ok := errors.AsType[*oauth.Error](err); !ok {
			t.Errorf("%s: %v, want an error shown to the person, never redirected", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name, code string
		kv         []string
	}{
		{"token response type", "unsupported_response_type", []string{"response_type", "token"}},
		{"no PKCE", "invalid_request", []string{"code_challenge", ""}},
		{"plain PKCE", "invalid_request", []string{"code_challenge_method", "plain"}},
		{"unknown scope", "invalid_scope", []string{"scope", "openid admin"}},
		{"unregistered resource", "invalid_target", []string{"resource", "https://nowhere.example"}},
		{"resource of an API that offers dynamic clients nothing", "invalid_target", []string{"resource", internal.Audience}},
		{"bad max_age", "invalid_request", []string{"max_age", "soon"}},
	} {
		_, err := e.OAuth.Authorize(ctx, with(tc.kv...), testIP)
		re, ok := errors.AsType[*oauth.RedirectError](err)
		if !ok || re.Err.Code != tc.code {
			t.Errorf("%s: %v, want a redirect with %s", tc.name, err, tc.code)
			continue
		}
		u, _ := url.Parse(re.URL)
		if q := u.Query(); u.Host != "app.example" || q.Get("error") != tc.code || q.Get("state") != "xyz" || q.Get("iss") != e.Issuer {
			t.Errorf("%s: redirect %s", tc.name, re.URL)
		}
	}
	// prompt=none: login_required without a session, consent_required
	// before consent.
	a, err := e.OAuth.Authorize(ctx, with("prompt", "none"), testIP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.OAuth.Decide(ctx, a, oauth.SignedIn{}); !isRedirect(err, "login_required") {
		t.Errorf("prompt=none without a session: %v", err)
	}
	who := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now()}
	if _, err := e.OAuth.Decide(ctx, a, who); !isRedirect(err, "consent_required") {
		t.Errorf("prompt=none before consent: %v", err)
	}
	// max_age: a sign-in older than it asks for another.
	a, _ = e.OAuth.Authorize(ctx, with("max_age", "60"), testIP)
	old := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now().Add(-2 * time.Minute)}
	if step, err := e.OAuth.Decide(ctx, a, old); step != oauth.StepLogin || err != nil {
		t.Errorf("max_age 60 with a sign-in 2m ago: %v %v, want StepLogin", step, err)
	}
	// prompt=login asks again until the person signed in after the request.
	a, _ = e.OAuth.Authorize(ctx, with("prompt", "login"), testIP)
	if step, _ := e.OAuth.Decide(ctx, a, old); step != oauth.StepLogin {
		t.Errorf("prompt=login: %v, want StepLogin", step)
	}
	// Denying redirects with access_denied.
	if u, _ := url.Parse(e.OAuth.Deny(a)); u.Query().Get("error") != "access_denied" {
		t.Errorf("Deny = %s", u)
	}
}

func isRedirect(err error, code string) bool {
	re, ok := errors.AsType[*oauth.RedirectError](err)
	return ok && re.Err.Code == code
}

// TestPushedAuthorizationRequests pushes a request (RFC 9126), uses its
// request_uri once, and refuses it the second time and after it expired.
func TestPushedAuthorizationRequests(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	id := e.publicClient(t, "openid", "authorization_code")
	params := form("client_id", id, "redirect_uri", "https://app.example/cb", "response_type", "code", "state", "s1",
		"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256")
	a := e.post(t, "/oauth2/par", nil, params)
	uri, _ := a.Raw["request_uri"].(string)
	if a.Status != 201 || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("PAR: %d %v", a.Status, a.Raw)
	}
	f, _ := oauth.ParseForm([]byte(url.Values{"client_id": {id}, "request_uri": {uri}}.Encode()))
	got, err := e.OAuth.Authorize(ctx, f, testIP)
	if err != nil || got.State != "s1" {
		t.Fatalf("Authorize(request_uri) = %+v, %v", got, err)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "invalid_request_uri") {
		t.Errorf("request_uri used twice: %v", err)
	}
	a = e.post(t, "/oauth2/par", nil, params)
	uri, _ = a.Raw["request_uri"].(string)
	e.Clock.Advance(oauth.PushedRequestTTL)
	f, _ = oauth.ParseForm([]byte(url.Values{"client_id": {id}, "request_uri": {uri}}.Encode()))
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "invalid_request_uri") {
		t.Errorf("expired request_uri: %v", err)
	}
	params.Set("redirect_uri", "https://evil.example/cb")
	if bad := e.post(t, "/oauth2/par", nil, params); bad.Status != 400 || bad.Error != "invalid_request" {
		t.Errorf("PAR with an unregistered redirect: %d %s", bad.Status, bad.Error)
	}
}

func isOAuthError(err error, code string) bool {
	e, ok := errors.AsType[*oauth.Error](err)
	return ok && e.Code == code
}

// TestRegistrationMetadata registers clients with plain RFC 7591
// metadata: the answer echoes what was registered; bad redirect URIs
// and impossible combinations are refused; scopes of APIs that did not
// opt in are not registered.
func TestRegistrationMetadata(t *testing.T) {
	e := newEnv(t)
	internal, err := e.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Internal", Audience: "https://internal.example",
		Scopes: []string{"secret"}, KeyPrefix: "intl"})
	if err != nil {
		t.Fatal(err)
	}
	status, out := e.register(t, http.MethodPost, "/oauth2/register", "", map[string]any{
		"client_name": "MCP client", "redirect_uris": []string{"http://127.0.0.1:33418/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": "openid read secret ship", "client_uri": "https://mcp.example",
		"contacts": []string{"dev@mcp.example"}, "software_id": "ignored-member"})
	if status != 201 {
		t.Fatalf("register: %d %v", status, out)
	}
	if out["scope"] != "openid read ship" || out["token_endpoint_auth_method"] != "none" || out["client_uri"] != "https://mcp.example" ||
		out["id_token_signed_response_alg"] != "RS256" {
		t.Errorf("registration answer = %v", out)
	}
	scopes, _ := out["tokend_api_scopes"].(map[string]any)
	if _, ok := scopes[internal.ID]; ok || len(scopes) != 2 {
		t.Errorf("tokend_api_scopes = %v, want billing and shipping only", scopes)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"javascript redirect", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
		{"fragment", map[string]any{"redirect_uris": []string{"https://a.example/cb#frag"}}, "invalid_redirect_uri"},
		{"plain http", map[string]any{"redirect_uris": []string{"http://a.example/cb"}}, "invalid_redirect_uri"},
		{"private scheme for a web app", map[string]any{"redirect_uris": []string{"com.example.app:/cb"}}, "invalid_redirect_uri"},
		{"code without redirect", map[string]any{"grant_types": []string{"authorization_code"}}, "invalid_redirect_uri"},
		{"public client_credentials", map[string]any{"grant_types": []string{"client_credentials"}, "token_endpoint_auth_method": "none",
			"tokend_api_scopes": map[string][]string{e.billing.ID: {"read"}}}, "invalid_client_metadata"},
		{"token response type", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "response_types": []string{"token"}}, "invalid_client_metadata"},
		{"opt-out API", map[string]any{"tokend_api_scopes": map[string][]string{internal.ID: {"secret"}}}, "invalid_client_metadata"},
		{"http logo", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "logo_uri": "http://a.example/l.png"}, "invalid_client_metadata"},
		{"bad id token alg", map[string]any{"redirect_uris": []string{"https://a.example/cb"}, "id_token_signed_response_alg": "none"}, "invalid_client_metadata"},
	} {
		tc.body["client_name"] = "x"
		status, out := e.register(t, http.MethodPost, "/oauth2/register", "", tc.body)
		if status != 400 || out["error"] != tc.code {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, status, out, tc.code)
		}
	}
	// A native app may use a private-use scheme.
	if status, out := e.register(t, http.MethodPost, "/oauth2/register", "", map[string]any{"client_name": "app",
		"application_type": "native", "redirect_uris": []string{"com.example.app:/oauth"}, "token_endpoint_auth_method": "none"}); status != 201 {
		t.Errorf("native private-use scheme: %d %v", status, out)
	}
}

// TestUserinfoAndGrantRevocation checks userinfo's refusals and that
// revoking a person's grant revokes the client's tokens for them.
func TestUserinfoAndGrantRevocation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "openid email", "authorization_code")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "https://app.example/cb", Scopes: []string{"openid", "email"}}
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), alice).Query().Get("code")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	get := func(token string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+"/oauth2/userinfo", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("WWW-Authenticate")
	}
	if status, _ := get(tok.AccessToken); status != 200 {
		t.Errorf("userinfo: %d", status)
	}
	if status, www := get(""); status != 401 || www != `Bearer realm="tokend"` { // RFC 6750 §3.1
		t.Errorf("userinfo without a token: %d %q", status, www)
	}
	if status, _ := get(tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"); status != 401 {
		t.Errorf("userinfo with a forged token: %d", status)
	}
	cc := e.token(t, e.client(t, nil), "resource", e.billing.Audience)
	if status, _ := get(cc.AccessToken); status != 401 {
		t.Errorf("userinfo with a client's own token: %d, want 401", status)
	}
	grants, err := e.OAuth.Grants(ctx, alice)
	if err != nil || len(grants) != 1 || grants[0].ClientID != id {
		t.Fatalf("Grants = %+v, %v", grants, err)
	}
	if err := e.OAuth.RevokeGrant(ctx, auditActor(alice), alice, id); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(tok.AccessToken); status != 401 {
		t.Errorf("userinfo after the grant was revoked: %d, want 401", status)
	}
}

// TestUserGrantSecretsNeverInClear runs a code flow, a pushed request and
// a device authorization, then searches the database files and the logs
// for the codes, the request_uri and the tokens.
func TestUserGrantSecretsNeverInClear(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "openid offline_access", "authorization_code", "refresh_token")
	dev := e.publicClient(t, "openid", "urn:ietf:params:oauth:grant-type:device_code")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "https://app.example/cb", Scopes: []string{"openid", "offline_access"}}
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), alice).Query().Get("code")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	par := e.post(t, "/oauth2/par", nil, form("client_id", id, "redirect_uri", "https://app.example/cb", "response_type", "code",
		"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256"))
	uri, _ := par.Raw["request_uri"].(string)
	da, err := (&oauth2.Config{ClientID: dev, Endpoint: p.Endpoint()}).DeviceAuth(ctx)
	if err != nil || uri == "" {
		t.Fatalf("PAR %v, device %v", par.Raw, err)
	}
	e.DB.Close() // checkpoint the WAL into the main file
	var files []byte
	for _, f := range []string{e.DBPath, e.DBPath + "-wal"} {
		b, _ := os.ReadFile(f)
		files = append(files, b...)
	}
	for _, secret := range []string{code, tok.RefreshToken, strings.TrimPrefix(uri, oauth.RequestURIPrefix), da.DeviceCode} {
		random := secret[strings.IndexByte(secret, '_')+1:]
		if bytes.Contains(files, []byte(random)) || strings.Contains(e.Logs.String(), random) {
			t.Errorf("the secret %s…%s is stored or logged in clear", secret[:6], secret[len(secret)-4:])
		}
	}
	if !strings.Contains(e.Logs.String(), `"path":"/oauth2/token"`) {
		t.Error("the access log is missing; the search above proves nothing")
	}
}

// TestCORS checks that browser apps of any origin may call the token,
// userinfo, JWKS, discovery and registration endpoints, and nothing else.
func TestCORS(t *testing.T) {
	e := newEnv(t)
	do := func(method, path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), method, e.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	pre := map[string]string{"Origin": "https://spa.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type"}
	for _, path := range []string{"/oauth2/token", "/oauth2/userinfo", "/oauth2/register", "/oauth2/jwks.json",
		"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		res := do(http.MethodOptions, path, pre)
		if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Errorf("preflight %s: %d %v", path, res.StatusCode, res.Header)
		}
	}
	if res := do(http.MethodGet, "/oauth2/jwks.json", map[string]string{"Origin": "https://spa.example"}); res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("JWKS answer lacks Access-Control-Allow-Origin: %v", res.Header)
	}
	if res := do(http.MethodOptions, "/v1/keys", pre); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the management API answers CORS: %v", res.Header)
	}
}

// TestFirstPartyClientAndLogout creates a first-party public client
// through the management API: it skips consent. Its ID token then names
// the client at the end-session endpoint, whose redirect must be
// registered.
func TestFirstPartyClientAndLogout(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	c, err := e.Client.CreateClient(ctx, api.CreateClientRequest{Name: "Portal", GrantTypes: []string{"authorization_code"},
		TokenEndpointAuthMethod: "none", ClientSettings: api.ClientSettings{RedirectURIs: []string{"https://portal.example/cb"},
			PostLogoutRedirectURIs: []string{"https://portal.example/bye"}, FirstParty: true, IDTokenSignedResponseAlg: "ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Secret != "" || !c.Client.FirstParty || c.Client.TokenEndpointAuthMethod != "none" {
		t.Fatalf("created %+v", c)
	}
	cfg := oauth2.Config{ClientID: c.Client.ID, Endpoint: e.provider(t).Endpoint(), RedirectURL: "https://portal.example/cb", Scopes: []string{"openid"}}
	verifier := oauth2.GenerateVerifier()
	u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	f, _ := oauth.ParseForm([]byte(u.RawQuery))
	a, err := e.OAuth.Authorize(ctx, f, testIP)
	if err != nil {
		t.Fatal(err)
	}
	who := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now()}
	if step, err := e.OAuth.Decide(ctx, a, who); step != oauth.StepIssue || err != nil {
		t.Fatalf("first-party Decide = %v %v, want StepIssue without consent", step, err)
	}
	to, _ := e.OAuth.IssueCode(ctx, a, who)
	back, _ := url.Parse(to)
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := tok.Extra("id_token").(string)
	if !strings.HasPrefix(idt, "eyJhbGciOiJFUzI1NiIs") {
		t.Errorf("id_token_signed_response_alg ES256 gave %s", idt[:30])
	}
	logout := func(kv ...string) (oauth.Logout, error) {
		f, _ := oauth.ParseForm([]byte(form(kv...).Encode()))
		return e.OAuth.CheckLogout(ctx, f)
	}
	got, err := logout("id_token_hint", idt, "post_logout_redirect_uri", "https://portal.example/bye", "state", "q")
	if err != nil || got.UserID != alice || got.ClientID != c.Client.ID || got.RedirectURI != "https://portal.example/bye?state=q" {
		t.Errorf("CheckLogout = %+v, %v", got, err)
	}
	for _, bad := range [][]string{
		{"id_token_hint", idt, "post_logout_redirect_uri", "https://evil.example/"},
		{"post_logout_redirect_uri", "https://portal.example/bye"},
		{"id_token_hint", idt[:len(idt)-3] + "abc"},
		{"id_token_hint", tok.AccessToken},
	} {
		if _, err := logout(bad...); !isOAuthError(err, "invalid_request") {
			t.Errorf("CheckLogout(%v) = %v, want invalid_request", bad[:len(bad)-1], err)
		}
	}
}
