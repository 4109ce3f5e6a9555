package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
)

// corsResult is what the browser app's script reads from each endpoint.
type corsResult struct {
	Issuer      string `json:"issuer"`
	Keys        int    `json:"keys"`
	ClientID    string `json:"client_id"`
	Scope       string `json:"scope"`
	TokenType   string `json:"token_type"`
	IDToken     bool   `json:"id_token"`
	Sub         string `json:"sub"`
	ReplayError string `json:"replay_error"`
}

// TestBrowserAppUsesCORS is a single-page app on another origin (a second
// port of 127.0.0.1) that talks to tokend with fetch() from chromium, as
// browser apps do: it reads the discovery document and the JWKS,
// registers itself as a public client (a JSON POST, preflighted), sends
// the person through sign-in and consent on the real pages, redeems the
// code it gets back at the token endpoint with PKCE, reads userinfo
// with the access token as bearer (preflighted for Authorization), and
// reads the token endpoint's error for a replayed code. Every answer must
// be readable by the page, which CORS decides.
func TestBrowserAppUsesCORS(t *testing.T) {
	s := servertest.New(t)
	rosa := newUser(t, s, "rosa", alicePW, false)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>app</title><p id="app">a browser app</p>`))
	}))
	t.Cleanup(app.Close)
	b := newBrowser(t)
	b.do(chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#app")))
	eval := func(js string) string {
		t.Helper()
		return run(b, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	}

	// Discovery, JWKS and registration from the page.
	reg := eval(fmt.Sprintf(`(async () => {
		const meta = await (await fetch(%q)).json();
		const jwks = await (await fetch(meta.jwks_uri)).json();
		const r = await fetch(meta.registration_endpoint, {method: "POST", headers: {"Content-Type": "application/json"},
			body: JSON.stringify({client_name: "SPA", token_endpoint_auth_method: "none", redirect_uris: [%q]})});
		const c = await r.json();
		return JSON.stringify({issuer: meta.issuer, keys: jwks.keys.length, client_id: c.client_id});
	})()`, s.Issuer+"/.well-known/openid-configuration", app.URL+"/cb"))
	var got corsResult
	if err := json.Unmarshal([]byte(reg), &got); err != nil {
		t.Fatalf("the page read %q: %v", reg, err)
	}
	if got.Issuer != s.Issuer || got.Keys == 0 || !strings.HasPrefix(got.ClientID, "cli_") {
		t.Fatalf("the page read discovery, JWKS and registration as %+v", got)
	}

	// The person signs in and allows on the real pages; the browser comes
	// back to the app with the code, which the page redeems.
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {got.ClientID}, "redirect_uri": {app.URL + "/cb"}, "response_type": {"code"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	b.do(chromedp.Navigate(s.Issuer+"/oauth2/authorize?"+q.Encode()), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "rosa"}, {"#password", alicePW}}, "main form button[type=submit]", "button[value=allow]")
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#app")))
	back, err := url.Parse(b.location())
	if err != nil || back.Path != "/cb" || back.Query().Get("code") == "" {
		t.Fatalf("back at the app at %s", b.location())
	}
	out := eval(fmt.Sprintf(`(async () => {
		const form = new URLSearchParams({grant_type: "authorization_code", code: %q, client_id: %q,
			redirect_uri: %q, code_verifier: %q});
		const tok = await (await fetch(%q, {method: "POST", body: form})).json();
		const ui = await (await fetch(%q, {headers: {Authorization: "Bearer " + tok.access_token}})).json();
		const replay = await (await fetch(%q, {method: "POST", body: form})).json();
		return JSON.stringify({scope: tok.scope, token_type: tok.token_type, id_token: !!tok.id_token, sub: ui.sub,
			replay_error: replay.error});
	})()`, back.Query().Get("code"), got.ClientID, app.URL+"/cb", verifier, s.Issuer+"/oauth2/token",
		s.Issuer+"/oauth2/userinfo", s.Issuer+"/oauth2/token"))
	got = corsResult{}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the page read %q: %v", out, err)
	}
	if got.Scope != "openid" || got.TokenType != "Bearer" || !got.IDToken || got.Sub != rosa.ID || got.ReplayError != "invalid_grant" {
		t.Errorf("the page read the token, userinfo and replay answers as %+v", got)
	}
}
