package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
)

// relyingParty is the redirect endpoint of a test client on 127.0.0.1:
// it records what the browser brings back and shows a page.
type relyingParty struct {
	*httptest.Server
	mu   sync.Mutex
	last url.Values
}

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{}
	rp.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		rp.mu.Lock()
		rp.last = r.URL.Query()
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>back</title><p id="back">back at the app: ` + r.URL.Path + `</p>`))
	}))
	t.Cleanup(rp.Close)
	return rp
}

func (rp *relyingParty) query() url.Values {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.last
}

// registerPublic registers a public client with plain RFC 7591 metadata.
func registerPublic(t *testing.T, s *servertest.Server, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(s.URL+"/oauth2/register", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 201 {
		t.Fatalf("register: %d %v", res.StatusCode, out)
	}
	return out["client_id"].(string)
}

// TestBrowserCodeFlowWithGoOIDC is the code flow as people meet it: an
// app (golang.org/x/oauth2 with PKCE, github.com/coreos/go-oidc) sends
// the browser to /oauth2/authorize; tokend asks the person to sign in on
// the real sign-in page and to consent on the consent page, which names
// the app, where it sends them back, the API and its scopes in the API
// owner's words; the app exchanges the code, verifies the ID token and
// reads userinfo; then RP-initiated logout signs the person out and
// returns to the app.
func TestBrowserCodeFlowWithGoOIDC(t *testing.T) {
	s := servertest.New(t)
	ctx := t.Context()
	billing, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Billing", Audience: "https://billing.example",
		Scopes: []string{"invoices:read"}, KeyPrefix: "bill", Policy: api.Policy{DynamicClientScopes: []string{"invoices:read"},
			ScopeDescriptions: map[string]string{"invoices:read": "Read your invoices"}}})
	if err != nil {
		t.Fatal(err)
	}
	rosa := newUser(t, s, "rosa", alicePW, false)
	rp := newRelyingParty(t)
	id := registerPublic(t, s, map[string]any{"client_name": "Invoice Viewer", "token_endpoint_auth_method": "none",
		"application_type": "native", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"post_logout_redirect_uris": []string{rp.URL + "/bye"}, "grant_types": []string{"authorization_code", "refresh_token"}})
	p, err := oidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: rp.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "invoices:read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce"))

	b := newBrowser(t)
	b.do(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "rosa"}, {"#password", alicePW}}, "main form button[type=submit]", "button[value=allow]")
	mustContain(t, "consent page", b.text("main"), "Invoice Viewer", "127.0.0.1", "Billing", "Read your invoices", "Know who you are")
	b.shoot("consent")
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#back")))
	q := rp.query()
	if q.Get("state") != "st4te" || q.Get("iss") != s.Issuer || q.Get("code") == "" {
		t.Fatalf("back at the app with %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: id, Now: s.Clock.Now}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		Nonce             string   `json:"nonce"`
		PreferredUsername string   `json:"preferred_username"`
		AMR               []string `json:"amr"`
	}
	idt.Claims(&claims)
	if idt.Subject != rosa.ID || claims.Nonce != "n0nce" || claims.PreferredUsername != "rosa" || len(claims.AMR) == 0 {
		t.Errorf("ID token: sub %s, claims %+v", idt.Subject, claims)
	}
	if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || ui.Subject != rosa.ID {
		t.Errorf("userinfo = %+v, %v", ui, err)
	}
	if r, err := s.Client.Verify(ctx, api.VerifyRequest{Token: tok.AccessToken, Audience: billing.Audience, Scopes: []string{"invoices:read"}}); err != nil || r.Code != api.CodeValid {
		t.Errorf("the access token at /v1/verify: %+v, %v", r, err)
	}

	// Consent is remembered: a second authorization goes straight back.
	b.do(chromedp.Navigate(cfg.AuthCodeURL("again", oauth2.S256ChallengeOption(verifier))), chromedp.WaitVisible(chromedp.CSS("#back")))
	if q := rp.query(); q.Get("state") != "again" || q.Get("code") == "" {
		t.Errorf("second authorization: %v", q)
	}

	// RP-initiated logout asks, signs out, and returns to the app.
	logout := p.Endpoint().AuthURL
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil || meta.EndSession == "" {
		t.Fatalf("end_session_endpoint: %q %v (authorize %s)", meta.EndSession, err, logout)
	}
	b.do(chromedp.Navigate(meta.EndSession+"?"+url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rp.URL + "/bye"},
		"state": {"bye"}}.Encode()), chromedp.WaitVisible(chromedp.CSS("main form button")))
	b.shoot("logout")
	b.do(chromedp.Click(chromedp.CSS("main form button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#back")))
	if q := rp.query(); q.Get("state") != "bye" || !strings.Contains(b.location(), "/bye") {
		t.Errorf("after logout at %s with %v", b.location(), q)
	}
	b.do(chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// TestBrowserDeviceFlow: a device shows a code; the person opens
// verification_uri_complete, signs in, sees the consent page and allows;
// the device's poll then gets its token.
func TestBrowserDeviceFlow(t *testing.T) {
	s := servertest.New(t)
	ctx := t.Context()
	newUser(t, s, "rosa", alicePW, false)
	id := registerPublic(t, s, map[string]any{"client_name": "TV app", "token_endpoint_auth_method": "none",
		"grant_types": []string{"urn:ietf:params:oauth:grant-type:device_code"}, "scope": "openid"})
	p, err := oidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), Scopes: []string{"openid"}}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do(chromedp.Navigate(da.VerificationURIComplete), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "rosa"}, {"#password", alicePW}}, "main form button[type=submit]", "#user_code")
	b.shoot("device")
	b.do(chromedp.Click(chromedp.CSS("main form button[type=submit]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	mustContain(t, "device consent", b.text("main"), "TV app", "Know who you are")
	// The consent page has a .notice too: wait for the answer's.
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(`.notice[role=status]`)))
	mustContain(t, "device done", b.text(`.notice[role=status]`), "Your device is connected")
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
}
