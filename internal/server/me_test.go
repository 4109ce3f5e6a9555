package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/user"
)

// meCall is one /v1/me request: with a session cookie (and the headers a
// browser sends from this site), or with a bearer token.
type meCall struct {
	cookie, bearer string
	header         http.Header
}

func (f *fixture) me(t *testing.T, c meCall, method, path, body string, out any) (int, api.Problem) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "tokend_session", Value: c.cookie})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p api.Problem
	if resp.StatusCode >= 400 {
		json.NewDecoder(resp.Body).Decode(&p)
	} else if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode, p
}

// signIn signs username in and returns the session token.
func (f *fixture) signIn(t *testing.T, username string) user.SignedIn {
	t.Helper()
	in, err := f.Users.SignIn(t.Context(), username, userPassword, user.ClientMeta{IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

const selfToken = `{"api_id":"api_tokend","name":"laptop","scopes":["tokend:self"],"ttl":"720h"}`

// TestMeAuthentication: /v1/me answers a session and a personal access
// token holding tokend:self, and refuses everything else: no
// credential, a token without the scope, a token of another API, an
// admin key, a pending session.
func TestMeAuthentication(t *testing.T) {
	f := newPATFixture(t)
	alice := f.signIn(t, "alice")
	var me api.User
	if st, p := f.me(t, meCall{cookie: alice.Token}, "GET", "/v1/me", "", &me); st != 200 || me.ID != f.alice.User.ID {
		t.Fatalf("GET /v1/me by session = %d %+v %+v", st, p, me)
	}
	var self api.CreatedToken
	if st, p := f.me(t, meCall{cookie: alice.Token}, "POST", "/v1/me/tokens", selfToken, &self); st != 201 || self.Token.UserID != f.alice.User.ID {
		t.Fatalf("POST /v1/me/tokens by session = %d %+v", st, p)
	}
	me = api.User{}
	if st, p := f.me(t, meCall{bearer: self.Secret}, "GET", "/v1/me", "", &me); st != 200 || me.ID != f.alice.User.ID {
		t.Errorf("GET /v1/me by tokend:self token = %d %+v %+v", st, p, me)
	}
	unscoped := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{}})
	other := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	_, verifyKey, err := f.Keys.CreateAdminKey(t.Context(), adminActor, "verifier", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call meCall
		want int
		code string
	}{
		{"nothing", meCall{}, 401, api.ErrUnauthorized},
		{"a token without tokend:self", meCall{bearer: unscoped.Secret}, 403, api.ErrInsufficientScope},
		{"a token of another API", meCall{bearer: other.Secret}, 401, api.ErrUnauthorized},
		{"an admin key", meCall{bearer: f.AdminKey}, 403, api.ErrInsufficientScope},
		{"a verify key", meCall{bearer: verifyKey}, 403, api.ErrInsufficientScope},
		{"an unknown cookie", meCall{cookie: "tkss_nope"}, 401, api.ErrUnauthorized},
	} {
		if st, p := f.me(t, c.call, "GET", "/v1/me/tokens", "", nil); st != c.want || p.Code() != c.code {
			t.Errorf("GET /v1/me/tokens with %s = %d %s, want %d %s", c.name, st, p.Code(), c.want, c.code)
		}
	}
	if _, err := f.Client.RevokeToken(t.Context(), self.Token.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.me(t, meCall{bearer: self.Secret}, "GET", "/v1/me", "", nil); st != 401 {
		t.Errorf("GET /v1/me with a revoked token = %d, want 401", st)
	}
}

// TestMeCrossOrigin: a cookie caller's state-changing request from
// another site is refused and changes nothing; a bearer caller needs no
// such check, and GETs are let through.
func TestMeCrossOrigin(t *testing.T) {
	f := newPATFixture(t)
	alice := f.signIn(t, "alice")
	tok := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		c := meCall{cookie: alice.Token, header: h}
		if st, p := f.me(t, c, "POST", "/v1/me/tokens/"+tok.Token.ID+"/revoke", "", nil); st != 403 || p.Code() != api.ErrCrossOrigin {
			t.Errorf("cross-site revoke %v = %d %s, want 403 cross-origin", h, st, p.Code())
		}
		if st, p := f.me(t, c, "POST", "/v1/me/revoke-all", "", nil); st != 403 || p.Code() != api.ErrCrossOrigin {
			t.Errorf("cross-site revoke-all %v = %d %s, want 403 cross-origin", h, st, p.Code())
		}
		if st, _ := f.me(t, c, "GET", "/v1/me/tokens", "", nil); st != 200 {
			t.Errorf("cross-site GET %v = %d, want 200", h, st)
		}
	}
	if c := f.code(t, tok.Secret, "read"); c != api.CodeValid {
		t.Fatalf("after refused cross-site revokes the token verifies as %s", c)
	}
	same := meCall{cookie: alice.Token, header: http.Header{"Sec-Fetch-Site": {"same-origin"}}}
	if st, p := f.me(t, same, "POST", "/v1/me/tokens/"+tok.Token.ID+"/revoke", "", nil); st != 200 {
		t.Fatalf("same-origin revoke = %d %+v", st, p)
	}
	if c := f.code(t, tok.Secret, "read"); c != api.CodeRevoked {
		t.Errorf("after revoke the token verifies as %s, want REVOKED", c)
	}
}

// TestMeOthersIDs: every /v1/me route given an id of another person's
// token, session, family or grant answers 404 and changes nothing.
func TestMeOthersIDs(t *testing.T) {
	f := newPATFixture(t)
	alice := f.signIn(t, "alice")
	bob := f.signIn(t, "bob")
	bobTok := f.pat(t, f.bob.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	bobFam, clientID := f.deviceSignIn(t, f.bob.User.ID)
	c := meCall{cookie: alice.Token}
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/me/tokens/" + bobTok.Token.ID},
		{"GET", "/v1/me/tokens/" + bobTok.Token.ID + "/uses"},
		{"POST", "/v1/me/tokens/" + bobTok.Token.ID + "/regenerate"},
		{"POST", "/v1/me/tokens/" + bobTok.Token.ID + "/revoke"},
		{"DELETE", "/v1/me/sessions/" + bob.Session.ID},
		{"DELETE", "/v1/me/families/" + bobFam},
		{"DELETE", "/v1/me/grants/" + clientID},
		{"DELETE", "/v1/me/passkeys/pk_nope"},
	} {
		if st, p := f.me(t, c, r.method, r.path, "", nil); st != 404 || p.Code() != api.ErrNotFound {
			t.Errorf("%s %s as alice = %d %s, want 404", r.method, r.path, st, p.Code())
		}
	}
	if c := f.code(t, bobTok.Secret, "read"); c != api.CodeValid {
		t.Errorf("bob's token verifies as %s after alice's attempts", c)
	}
	if _, _, err := f.Users.CheckSession(t.Context(), bob.Token); err != nil {
		t.Errorf("bob's session after alice's attempts: %v", err)
	}
	var gl api.GrantList
	if st, _ := f.me(t, meCall{cookie: bob.Token}, "GET", "/v1/me/grants", "", &gl); st != 200 || len(gl.Grants) != 1 || len(gl.Grants[0].Families) != 1 {
		t.Errorf("bob's grants after alice's attempts = %d %+v", st, gl)
	}
}

// deviceSignIn runs the device flow for a new public client of f's API
// and approves it as userID; it returns the family and the client id.
func (f *fixture) deviceSignIn(t *testing.T, userID string) (family, clientID string) {
	t.Helper()
	_, _, refresh, clientID := f.deviceTokens(t, userID)
	fams, err := f.DB.UserFamilies(t.Context(), userID, f.Clock.Now(), 10)
	if err != nil || len(fams) == 0 || refresh == "" {
		t.Fatalf("families after device sign-in: %+v %v", fams, err)
	}
	return fams[0].ID, clientID
}

// deviceTokens registers a public client allowed the device flow and
// refresh tokens, runs the flow for userID and returns the tokens.
func (f *fixture) deviceTokens(t *testing.T, userID string) (access, scope, refresh, clientID string) {
	t.Helper()
	ctx := t.Context()
	a, err := f.Client.GetAPI(ctx, f.api.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Policy.DynamicClientScopes) == 0 {
		a.Policy.DynamicClientScopes = []string{"read"}
		if _, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &a.Policy}); err != nil {
			t.Fatal(err)
		}
	}
	resp, _, body := f.rawBody(t, "POST", "/oauth2/register", "application/json",
		`{"client_name":"CLI","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"token_endpoint_auth_method":"none","scope":"openid offline_access read","application_type":"native"}`, "none")
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if json.Unmarshal([]byte(body), &reg); resp.StatusCode != 201 {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	f.tokenForm(t, "/oauth2/device_authorization", url.Values{"client_id": {reg.ClientID}, "scope": {"openid offline_access read"},
		"resource": {"https://pay.example"}}, &da)
	req, err := f.OAuth.LookupUserCode(ctx, da.UserCode, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	who := oauth.SignedIn{UserID: userID, AuthTime: f.Clock.Now(), AMR: []string{"pwd"}}
	if err := f.OAuth.DecideDevice(ctx, adminActor, req.UserCode, who, true); err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		Scope        string `json:"scope"`
		RefreshToken string `json:"refresh_token"`
	}
	f.tokenForm(t, "/oauth2/token", url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {da.DeviceCode},
		"client_id": {reg.ClientID}}, &tok)
	return tok.AccessToken, tok.Scope, tok.RefreshToken, reg.ClientID
}

// tokenForm posts form to an OAuth endpoint and decodes a 200 answer.
func (f *fixture) tokenForm(t *testing.T, path string, form url.Values, out any) {
	t.Helper()
	resp, err := http.PostForm(f.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST %s = %d %v", path, resp.StatusCode, e)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// refreshStatus presents a refresh token and returns the status and the
// OAuth error.
func (f *fixture) refreshStatus(t *testing.T, clientID, refresh string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(f.URL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {clientID}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error
}

// TestMeGrants: the person sees the app they approved through the device
// flow, with its scopes in the API's words and its family; revoking the
// grant refuses its refresh token.
func TestMeGrants(t *testing.T) {
	f := newPATFixture(t)
	desc := map[string]string{"read": "Read your payments"}
	p := api.Policy{DynamicClientScopes: []string{"read", "write"}, ScopeDescriptions: desc,
		UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}}
	if _, err := f.Client.UpdateAPI(t.Context(), f.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	alice := f.signIn(t, "alice")
	c := meCall{cookie: alice.Token}
	_, _, refresh, clientID := f.deviceTokens(t, f.alice.User.ID)
	var gl api.GrantList
	if st, _ := f.me(t, c, "GET", "/v1/me/grants", "", &gl); st != 200 || len(gl.Grants) != 1 {
		t.Fatalf("GET /v1/me/grants = %d %+v", st, gl)
	}
	g := gl.Grants[0]
	words := map[string]string{}
	for _, sc := range g.Scopes {
		words[sc.Name] = sc.Description
	}
	if g.ClientID != clientID || g.ClientName != "CLI" || words["read"] != "Read your payments" || words["openid"] == "" ||
		len(g.Families) != 1 || !g.Families[0].Device {
		t.Errorf("grant = %+v", g)
	}
	var dl api.FamilyList
	if st, _ := f.me(t, c, "GET", "/v1/me/device-sign-ins", "", &dl); st != 200 || len(dl.Families) != 1 || dl.Families[0].ClientID != clientID {
		t.Errorf("GET /v1/me/device-sign-ins = %d %+v", st, dl)
	}
	if st, p := f.me(t, c, "DELETE", "/v1/me/grants/"+clientID, "", nil); st != 204 {
		t.Fatalf("DELETE grant = %d %+v", st, p)
	}
	if st, e := f.refreshStatus(t, clientID, refresh); st != 400 || e != "invalid_grant" {
		t.Errorf("refresh after the grant was revoked = %d %s, want 400 invalid_grant", st, e)
	}
	gl = api.GrantList{}
	if st, _ := f.me(t, c, "GET", "/v1/me/grants", "", &gl); st != 200 || len(gl.Grants) != 0 {
		t.Errorf("grants after revoking = %+v", gl)
	}
}

// TestMeTokenUsesAndRevokeAll: a token's recent uses show the client
// address and result code; "revoke everything" ends every token, app and
// other session, and keeps the calling session.
func TestMeTokenUsesAndRevokeAll(t *testing.T) {
	f := newPATFixture(t)
	alice := f.signIn(t, "alice")
	other := f.signIn(t, "alice")
	c := meCall{cookie: alice.Token}
	tok := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	for _, sc := range []string{"read", "write"} {
		f.verify(t, api.VerifyRequest{Token: tok.Secret, Audience: "https://pay.example", Scopes: []string{sc}, ClientIP: "203.0.113.5"})
	}
	if err := f.Engine.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ul api.TokenUseList
	if st, p := f.me(t, c, "GET", "/v1/me/tokens/"+tok.Token.ID+"/uses", "", &ul); st != 200 {
		t.Fatalf("GET uses = %d %+v", st, p)
	}
	codes := map[api.Code]int64{}
	for _, u := range ul.Uses {
		codes[u.Code] += u.Count
		if u.IP != "203.0.113.5" || !u.Minute.Equal(u.Minute.Truncate(time.Minute)) {
			t.Errorf("use %+v: want ip 203.0.113.5, a whole minute", u)
		}
	}
	if codes[api.CodeValid] != 1 || codes[api.CodeInsufficientScope] != 1 {
		t.Errorf("uses = %+v, want one VALID and one INSUFFICIENT_SCOPE", ul.Uses)
	}
	_, _, refresh, clientID := f.deviceTokens(t, f.alice.User.ID)
	var out api.RevokedAll
	if st, p := f.me(t, c, "POST", "/v1/me/revoke-all", "", &out); st != 200 {
		t.Fatalf("revoke-all = %d %+v", st, p)
	}
	if out.Tokens != 1 || out.Grants != 1 || out.Families != 1 || out.Sessions != 1 {
		t.Errorf("revoke-all = %+v, want 1 of each", out)
	}
	if code := f.code(t, tok.Secret, "read"); code != api.CodeRevoked {
		t.Errorf("token after revoke-all: %s", code)
	}
	if st, e := f.refreshStatus(t, clientID, refresh); st != 400 || e != "invalid_grant" {
		t.Errorf("refresh after revoke-all = %d %s", st, e)
	}
	if _, _, err := f.Users.CheckSession(t.Context(), other.Token); err == nil {
		t.Error("the other session survived revoke-all")
	}
	if st, _ := f.me(t, c, "GET", "/v1/me", "", nil); st != 200 {
		t.Errorf("the calling session after revoke-all: %d, want 200", st)
	}
}

// TestMeCLISignIn: an access token the built-in CLI client got through
// the device flow stands for the person on /v1/me; another app's access
// token for the same person does not.
func TestMeCLISignIn(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	other, _, _, _ := f.deviceTokens(t, f.alice.User.ID)
	if st, p := f.me(t, meCall{bearer: other}, "GET", "/v1/me", "", nil); st != 401 {
		t.Errorf("another app's access token on /v1/me = %d %+v, want 401", st, p)
	}
	access := f.cliSignIn(t, f.alice.User.ID)
	var me api.User
	if st, p := f.me(t, meCall{bearer: access}, "GET", "/v1/me", "", &me); st != 200 || me.ID != f.alice.User.ID {
		t.Fatalf("the CLI's access token on /v1/me = %d %+v", st, p)
	}
	var self api.CreatedToken
	if st, p := f.me(t, meCall{bearer: access}, "POST", "/v1/me/tokens", selfToken, &self); st != 201 {
		t.Fatalf("POST /v1/me/tokens with the CLI's access token = %d %+v", st, p)
	}
	if _, err := f.Client.DisableUser(ctx, f.alice.User.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.me(t, meCall{bearer: access}, "GET", "/v1/me", "", nil); st != 401 {
		t.Errorf("the CLI's access token of a disabled person = %d, want 401", st)
	}
}

// cliSignIn signs userID in as "tokend login" does, through the device
// flow of the built-in CLI client, and returns the access token.
func (f *fixture) cliSignIn(t *testing.T, userID string) string {
	t.Helper()
	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	f.tokenForm(t, "/oauth2/device_authorization", url.Values{"client_id": {oauth.CLIClientID}, "scope": {"openid"}}, &da)
	req, err := f.OAuth.LookupUserCode(t.Context(), da.UserCode, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	who := oauth.SignedIn{UserID: userID, AuthTime: f.Clock.Now(), AMR: []string{"pwd"}}
	if err := f.OAuth.DecideDevice(t.Context(), adminActor, req.UserCode, who, true); err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	f.tokenForm(t, "/oauth2/token", url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {da.DeviceCode},
		"client_id": {oauth.CLIClientID}}, &tok)
	return tok.AccessToken
}
