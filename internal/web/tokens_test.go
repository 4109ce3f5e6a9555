package web_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// sessionHeader signs username in and returns the cookie header of the
// session.
func sessionHeader(t *testing.T, s *servertest.Server, username string) http.Header {
	t.Helper()
	in, err := s.Users.SignIn(t.Context(), username, alicePW, user.ClientMeta{IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Cookie": {"tokend_session=" + in.Token}}
}

func getAs(t *testing.T, s *servertest.Server, h http.Header, path string) page {
	t.Helper()
	return do(t, http.MethodGet, s.URL+path, nil, h)
}

// TestMyTokensPages drives the pages over HTTP: the create form refuses
// what the policy does not allow and keeps what was typed; another
// person's token id is the not-found page and changes nothing; a revoke
// button posted from another site is refused.
func TestMyTokensPages(t *testing.T) {
	s := servertest.New(t)
	a := paymentsAPI(t, s)
	rosa := newUser(t, s, "rosa", alicePW, false)
	bob := newUser(t, s, "bob", alicePW, false)
	h := sessionHeader(t, s, "rosa")
	wantPage(t, "empty tokens page", getAs(t, s, h, "/account/tokens"), 200, "You have no personal access tokens", "Lost a laptop?")
	wantPage(t, "new token form", getAs(t, s, h, "/account/tokens/new?api_id="+a.ID), 200, "See your payments", `value="30"`)
	form := url.Values{"api_id": {a.ID}, "name": {"too much"}, "scope": {"write"}, "expiry": {"30"}}
	wantPage(t, "write refused", post(t, s.URL, "/account/tokens", form, h), 400, "Scopes:", "too much")
	form.Set("scope", "read")
	form.Set("expiry", "90")
	wantPage(t, "90 days refused", post(t, s.URL, "/account/tokens", form, h), 400, "Expires:")
	form.Set("expiry", "never")
	wantPage(t, "no expiry refused", post(t, s.URL, "/account/tokens", form, h), 400, "Expires:")
	if ts, _ := s.Keys.PATs(t.Context(), rosa.ID, "", 10); len(ts) != 0 {
		t.Fatalf("refused forms created %d tokens", len(ts))
	}
	form.Set("expiry", "7")
	created := post(t, s.URL, "/account/tokens", form, h)
	wantPage(t, "created", created, 201, "tkpt_", "never show it again")
	i := strings.Index(created.body, "tkpt_")
	secret := created.body[i : i+strings.IndexByte(created.body[i:], '<')]

	bobTok, bobSecret, err := s.Keys.CreatePAT(t.Context(), audit.System, bob.ID, api.CreateTokenRequest{APIID: a.ID, Name: "bob's",
		Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * 60 * 60 * 1e9))})
	if err != nil {
		t.Fatal(err)
	}
	wantPage(t, "bob's token as rosa", getAs(t, s, h, "/account/tokens/"+bobTok.ID), 404)
	wantPage(t, "revoking bob's token as rosa", post(t, s.URL, "/account/tokens/"+bobTok.ID+"/revoke", nil, h), 404)
	if c := verifyCode(t, s, bobSecret, ""); c != api.CodeValid {
		t.Errorf("bob's token after rosa's attempts: %s", c)
	}
	ts, _ := s.Keys.PATs(t.Context(), rosa.ID, "", 10)
	if len(ts) != 1 {
		t.Fatalf("rosa has %d tokens", len(ts))
	}
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}, "Cookie": h["Cookie"]}
	for _, path := range []string{"/account/tokens/" + ts[0].ID + "/revoke", "/account/tokens/revoke-all"} {
		if p := post(t, s.URL, path, nil, cross); p.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s = %d, want 403", path, p.status)
		}
	}
	if c := verifyCode(t, s, secret, ""); c != api.CodeValid {
		t.Fatalf("rosa's token after cross-site posts: %s", c)
	}
	wantPage(t, "tokens page", getAs(t, s, h, "/account/tokens"), 200, "too much", "expires soon")
	if p := post(t, s.URL, "/account/tokens/revoke-all", nil, h); p.status != http.StatusSeeOther {
		t.Fatalf("revoke-all = %d\n%s", p.status, p.body)
	}
	if c := verifyCode(t, s, secret, ""); c != api.CodeRevoked {
		t.Errorf("rosa's token after revoke-all: %s", c)
	}
	wantPage(t, "after revoke-all", getAs(t, s, h, "/account/tokens?done=all"), 200, "Everything was revoked", "revoked")
}

func ptr[T any](v T) *T { return &v }

// TestMyTokensRevokeApp: an app the person approved through the device
// flow shows on the page with its scopes in the API's words and its
// refresh-token family; its revoke button refuses its refresh token.
func TestMyTokensRevokeApp(t *testing.T) {
	s := servertest.New(t)
	paymentsAPI(t, s)
	rosa := newUser(t, s, "rosa", alicePW, false)
	h := sessionHeader(t, s, "rosa")
	clientID, refresh := deviceApp(t, s, rosa.ID)
	wantPage(t, "tokens page with the app", getAs(t, s, h, "/account/tokens"), 200, "CLI app", "See your payments",
		"last refreshed", "/account/tokens/apps/"+clientID+"/revoke")
	if p := post(t, s.URL, "/account/tokens/apps/"+clientID+"/revoke", nil, h); p.status != http.StatusSeeOther {
		t.Fatalf("revoke app = %d\n%s", p.status, p.body)
	}
	resp, err := http.PostForm(s.URL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {clientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("refresh after the revoke button = %d, want 400", resp.StatusCode)
	}
	wantPage(t, "tokens page after", getAs(t, s, h, "/account/tokens?done=app"), 200, "You have not allowed any app")
}

// deviceApp registers a public app allowed the device flow and refresh
// tokens, approves it for userID and returns its id and refresh token.
func deviceApp(t *testing.T, s *servertest.Server, userID string) (clientID, refresh string) {
	t.Helper()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	body := `{"client_name":"CLI app","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],` +
		`"token_endpoint_auth_method":"none","scope":"openid offline_access read","application_type":"native"}`
	resp, err := http.Post(s.URL+"/oauth2/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	formJSON(t, s.URL+"/oauth2/device_authorization", url.Values{"client_id": {reg.ClientID},
		"scope": {"openid offline_access read"}, "resource": {"https://pay.example"}}, &da)
	req, err := s.OAuth.LookupUserCode(t.Context(), da.UserCode, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	who := oauth.SignedIn{UserID: userID, AuthTime: s.Clock.Now(), AMR: []string{"pwd"}}
	if err := s.OAuth.DecideDevice(t.Context(), audit.System, req.UserCode, who, true); err != nil {
		t.Fatal(err)
	}
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	formJSON(t, s.URL+"/oauth2/token", url.Values{"grant_type": {oauth.GrantDeviceCode}, "device_code": {da.DeviceCode},
		"client_id": {reg.ClientID}}, &tok)
	if tok.RefreshToken == "" {
		t.Fatal("the device flow gave no refresh token")
	}
	return reg.ClientID, tok.RefreshToken
}

func formJSON(t *testing.T, u string, form url.Values, out any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s = %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestMyTokenRegenerate: the detail page's Regenerate button gives the
// token a new secret, shown once, with the same settings; the old one
// keeps working for the grace chosen, or stops at once without one.
// Another person's token id, a grace beyond seven days and a cross-site
// post are refused and change nothing.
func TestMyTokenRegenerate(t *testing.T) {
	s := servertest.New(t)
	a := paymentsAPI(t, s)
	rosa := newUser(t, s, "rosa", alicePW, false)
	bob := newUser(t, s, "bob", alicePW, false)
	h := sessionHeader(t, s, "rosa")
	tok, old, err := s.Keys.CreatePAT(t.Context(), audit.System, rosa.ID, api.CreateTokenRequest{APIID: a.ID, Name: "deploys",
		Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * 60 * 60 * 1e9)), AllowedCIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	bobTok, bobSecret, err := s.Keys.CreatePAT(t.Context(), audit.System, bob.ID, api.CreateTokenRequest{APIID: a.ID, Name: "bob's",
		Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * 60 * 60 * 1e9))})
	if err != nil {
		t.Fatal(err)
	}
	path := "/account/tokens/" + tok.ID + "/regenerate"
	wantPage(t, "detail page", getAs(t, s, h, "/account/tokens/"+tok.ID), 200, `action="`+path+`"`, "The old secret keeps working")
	wantPage(t, "bob's token as rosa", post(t, s.URL, "/account/tokens/"+bobTok.ID+"/regenerate", url.Values{"grace": {"1h"}}, h), 404)
	wantPage(t, "grace of eight days", post(t, s.URL, path, url.Values{"grace": {"8d"}}, h), 400)
	wantPage(t, "grace garbage", post(t, s.URL, path, url.Values{"grace": {"soon"}}, h), 400)
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}, "Cookie": h["Cookie"]}
	if p := post(t, s.URL, path, url.Values{"grace": {"0"}}, cross); p.status != http.StatusForbidden {
		t.Errorf("cross-site regenerate = %d, want 403", p.status)
	}
	if c := verifyCode(t, s, old, "203.0.113.9"); c != api.CodeValid {
		t.Fatalf("the old secret after refused regenerations: %s", c)
	}
	if c := verifyCode(t, s, bobSecret, ""); c != api.CodeValid {
		t.Fatalf("bob's token after rosa's attempt: %s", c)
	}

	p := post(t, s.URL, path, url.Values{"grace": {"1h"}}, h)
	wantPage(t, "regenerated with grace", p, 200, "never show it again", "keeps working for 1 hour", "deploys")
	fresh := secretIn(t, p.body)
	if fresh == old {
		t.Fatal("the regenerated secret is the old one")
	}
	for name, sec := range map[string]string{"new": fresh, "old, in its grace": old} {
		if c := verifyCode(t, s, sec, "203.0.113.9"); c != api.CodeValid {
			t.Errorf("%s secret: %s, want VALID", name, c)
		}
	}
	if c := verifyCode(t, s, fresh, "198.51.100.1"); c != api.CodeForbiddenIP {
		t.Errorf("the new secret kept no allowlist: %s", c)
	}

	p = post(t, s.URL, path, url.Values{"grace": {"0"}}, h)
	wantPage(t, "regenerated without grace", p, 200, "never show it again")
	if strings.Contains(p.body, "keeps working") {
		t.Error("the page promises a grace that was not chosen")
	}
	newest := secretIn(t, p.body)
	if c := verifyCode(t, s, fresh, "203.0.113.9"); c == api.CodeValid {
		t.Error("the previous secret still works after a regeneration without grace")
	}
	if c := verifyCode(t, s, newest, "203.0.113.9"); c != api.CodeValid {
		t.Errorf("the newest secret: %s", c)
	}
}

// secretIn is the personal access token a page shows.
func secretIn(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, "tkpt_")
	if i < 0 {
		t.Fatalf("no secret on the page:\n%s", body)
	}
	return body[i : i+strings.IndexByte(body[i:], '<')]
}

// TestMyTokensFamilyIP: the page shows where an app's refresh-token
// family and a device sign-in were last used from: the client address of
// the token request that issued their current refresh token, through a
// proxy only when tokend trusts it (--trusted-proxies).
func TestMyTokensFamilyIP(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []netip.Prefix
		want    string
	}{
		{"behind a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "198.51.100.23"},
		{"forwarded header not trusted", nil, "127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Options{TrustedProxies: c.trusted})
			paymentsAPI(t, s)
			rosa := newUser(t, s, "rosa", alicePW, false)
			h := sessionHeader(t, s, "rosa")
			clientID, refresh := deviceApp(t, s, rosa.ID)
			// The device's first tokens came straight from 127.0.0.1.
			wantPage(t, "after the device sign-in", getAs(t, s, h, "/account/tokens"), 200, "from 127.0.0.1")
			s.Clock.Advance(2 * time.Minute)
			req, err := http.NewRequest(http.MethodPost, s.URL+"/oauth2/token", strings.NewReader(url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "198.51.100.23")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("refresh = %d", resp.StatusCode)
			}
			p := getAs(t, s, h, "/account/tokens")
			wantPage(t, "after a refresh", p, 200, "last refreshed 2 Jan 2026, 03:06 UTC from "+c.want)
			devices := p.body[strings.Index(p.body, `id="devices"`):]
			wantPage(t, "device sign-ins", page{status: p.status, body: devices}, 200, "03:06 UTC from "+c.want)
			if c.want != "198.51.100.23" && strings.Contains(p.body, "198.51.100.23") {
				t.Error("the page believes a forwarded header from an untrusted peer")
			}
			var fams api.FamilyList
			meJSON(t, s, h, "/v1/me/device-sign-ins", &fams)
			if len(fams.Families) != 1 || fams.Families[0].LastIP != c.want {
				t.Errorf("GET /v1/me/device-sign-ins = %+v, want last_ip %s", fams.Families, c.want)
			}
		})
	}
}

// meJSON GETs a /v1/me path with the session of h and decodes it.
func meJSON(t *testing.T, s *servertest.Server, h http.Header, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestMyTokensLeakedWhy: a token revoked by a leaked-token report says
// why on its owner's list and detail page; one the owner revoked does
// not.
func TestMyTokensLeakedWhy(t *testing.T) {
	s := servertest.New(t)
	a := paymentsAPI(t, s)
	rosa := newUser(t, s, "rosa", alicePW, false)
	h := sessionHeader(t, s, "rosa")
	mk := func(name string) (string, string) {
		k, secret, err := s.Keys.CreatePAT(t.Context(), audit.System, rosa.ID, api.CreateTokenRequest{APIID: a.ID, Name: name,
			Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		return k.ID, secret
	}
	leakedID, leaked := mk("pasted")
	mineID, _ := mk("mine")
	resp, err := http.Post(s.URL+"/v1/leaked-tokens", "application/json",
		strings.NewReader(`{"token":"`+leaked+`","url":"https://gist.example/1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("leak report = %d", resp.StatusCode)
	}
	if p := post(t, s.URL, "/account/tokens/"+mineID+"/revoke", nil, h); p.status != http.StatusSeeOther {
		t.Fatalf("revoke = %d", p.status)
	}
	why := "revoked because it was found in public and reported as leaked"
	list := getAs(t, s, h, "/account/tokens")
	wantPage(t, "list", list, 200, why)
	if strings.Count(list.body, "revoked because") != 1 {
		t.Errorf("the list gives a reason for the token its owner revoked:\n%s", list.body)
	}
	wantPage(t, "leaked token's page", getAs(t, s, h, "/account/tokens/"+leakedID), 200, why)
	if p := getAs(t, s, h, "/account/tokens/"+mineID); strings.Contains(p.body, "revoked because") {
		t.Error("the page of the token its owner revoked gives a reason")
	}
}
