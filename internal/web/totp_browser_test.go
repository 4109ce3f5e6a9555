package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
	"golang.org/x/oauth2"
)

// enrolBrowser sets up an authenticator app on the TOTP page the tab
// shows, as a person would: it reads the key the page shows for manual
// entry, computes the app's code from it (pquerna/otp) and types it in.
// It returns the secret and the recovery codes, and moves the server's
// clock to the next 30-second step so that the next code is fresh.
func enrolBrowser(b *browser, s *servertest.Server, shots bool) (string, []string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`form[action="/account/totp/begin"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	// The QR code is a data: image: the CSP must let it load.
	if !run(b, chromedp.Evaluate[bool](`(() => { const i = document.querySelector("img.qr"); return i.complete && i.naturalWidth === 256; })()`)) {
		b.t.Error("the QR code did not load (CSP img-src?)")
	}
	if got := run(b, chromedp.Evaluate[string](`document.querySelector("#code").getAttribute("autocomplete")`)); got != "one-time-code" {
		b.t.Errorf("the code field's autocomplete = %q, want one-time-code", got)
	}
	if shots {
		b.shoot("account-totp-enrol")
	}
	secret := b.text("#totp-secret")
	b.submit([][2]string{{"#code", totpCode(b.t, s, secret)}}, `form[action="/account/totp/confirm"] button`, "#recovery-codes")
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != 10 {
		b.t.Fatalf("the page shows %d recovery codes, want 10: %v", len(codes), codes)
	}
	if shots {
		b.shoot("recovery-codes")
	}
	s.Clock.Advance(30 * time.Second)
	return secret, codes
}

// typeCode types a code on the second-factor step and clicks Continue,
// then waits for sel on the next page.
func typeCode(b *browser, code, sel string) {
	b.t.Helper()
	b.do(chromedp.Clear(chromedp.CSS("#code")))
	b.submit([][2]string{{"#code", code}}, `form[action="/signin/second-factor"] button`, sel)
}

// signOutBrowser signs out with the header's button.
func signOutBrowser(b *browser) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("form.signout button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// TestBrowserTOTP: a person sets up an authenticator app from their
// account page (the test reads the key the page shows and computes the
// app's codes), then signs in with password and code; a wrong code and a
// code used already are refused on the page; a recovery code works once.
// JavaScript is off throughout: none of it needs any.
func TestBrowserTOTP(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "tara", alicePW, false)
	b := newBrowser(t)
	b.noScript()
	base := s.URL
	signInBrowser(b, base, "tara", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/totp"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/totp/begin"]`)))
	b.shoot("account-totp-off")
	secret, codes := enrolBrowser(b, s, true)
	b.do(chromedp.Click(chromedp.CSS(`main a.button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#profile")))
	b.do(chromedp.Navigate(base+"/account/totp"), chromedp.WaitVisible(chromedp.CSS("#renew-proof")))
	mustContain(t, "TOTP page", b.text("main"), "You have 10 unused recovery codes")
	b.shoot("account-totp-on")

	// Password, then a wrong code, then the right one.
	signOutBrowser(b)
	signInBrowser(b, base, "tara", alicePW, "#code")
	if loc := b.location(); loc != base+"/signin/second-factor" {
		t.Fatalf("after the password: %s, want the second-factor step", loc)
	}
	b.shoot("second-factor")
	typeCode(b, "000000", "#form-error")
	mustContain(t, "wrong code", b.text("#form-error"), "not right")
	b.shoot("second-factor-error")
	code := totpCode(t, s, secret)
	typeCode(b, code, "#profile")

	// The same code again, in the same 30 seconds: refused.
	signOutBrowser(b)
	signInBrowser(b, base, "tara", alicePW, "#code")
	typeCode(b, code, "#form-error")
	mustContain(t, "reused code", b.text("#form-error"), "used already")
	// A recovery code instead: accepted once.
	typeCode(b, codes[3], "#profile")
	signOutBrowser(b)
	signInBrowser(b, base, "tara", alicePW, "#code")
	typeCode(b, codes[3], "#form-error")
	mustContain(t, "reused recovery code", b.text("#form-error"), "not right")
	s.Clock.Advance(30 * time.Second)
	typeCode(b, totpCode(t, s, secret), "#profile")
	if m, _ := s.Users.MFA(t.Context(), mustUserID(t, s, "tara")); m.RecoveryCodesLeft != 9 {
		t.Errorf("recovery codes left = %d, want 9", m.RecoveryCodesLeft)
	}
}

// TestBrowserTOTPEnrolForced: with --mfa-required everyone, a person
// without a second factor is held on the enrolment step after their
// password; they choose the authenticator app there, set it up, and are
// signed in. An admin then resets their second factors on the admin page.
func TestBrowserTOTPEnrolForced(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAEveryone})
	newUser(t, s, "ugo", alicePW, false)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "ugo", alicePW, `a[href^="/account/totp"]`)
	if loc := b.location(); loc != s.URL+"/signin/enrol" {
		t.Fatalf("after the password: %s, want the enrolment step", loc)
	}
	b.do(chromedp.Click(chromedp.CSS(`a[href^="/account/totp"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/account/totp/begin"]`)))
	b.shoot("signin-enrol-totp")
	enrolBrowser(b, s, false)
	b.do(chromedp.Click(chromedp.CSS(`main a.button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#profile")))
	if loc := b.location(); loc != s.URL+"/account" {
		t.Errorf("after the enrolment: %s, want the account page", loc)
	}

	// The admin's side: the user page shows the factor and resets it.
	newUser(t, s, "root", alicePW, true)
	rootID := mustUserID(t, s, "root")
	en, err := s.Users.BeginTOTP(t.Context(), rootID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users.ConfirmTOTP(t.Context(), rootID, totpCode(t, s, en.Secret)); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(30 * time.Second)
	a := newBrowser(t)
	signInBrowser(a, s.URL, "root", alicePW, "#code")
	typeCode(a, totpCode(t, s, en.Secret), "#profile")
	a.do(chromedp.Navigate(s.URL+"/admin/users/"+mustUserID(t, s, "ugo")), chromedp.WaitVisible(chromedp.CSS(`form[action$="/reset-mfa"]`)))
	mustContain(t, "admin user page", a.text("main"), "authenticator app (10 recovery codes left)")
	a.shoot("admin-user-mfa")
	a.do(chromedp.Click(chromedp.CSS(`form[action$="/reset-mfa"] input[name=confirm]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/reset-mfa"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "after the reset", a.text(".notice"), "second factors were removed")
	// Ugo's browser is signed out.
	b.do(chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.CSS("#username")))
}

// TestBrowserAuthorizeTOTP: an app sends the browser to
// /oauth2/authorize; the person signs in with password and TOTP code and
// lands on the consent page of that request, then back at the app with
// a code the app exchanges.
func TestBrowserAuthorizeTOTP(t *testing.T) {
	s := servertest.New(t)
	ctx := t.Context()
	newUser(t, s, "vera", alicePW, false)
	id := mustUserID(t, s, "vera")
	en, err := s.Users.BeginTOTP(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users.ConfirmTOTP(ctx, id, totpCode(t, s, en.Secret)); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(30 * time.Second)
	rp := newRelyingParty(t)
	client := registerPublic(t, s, map[string]any{"client_name": "Notes", "token_endpoint_auth_method": "none",
		"application_type": "native", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"grant_types": []string{"authorization_code"}})
	p, err := oidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: client, Endpoint: p.Endpoint(), RedirectURL: rp.URL + "/callback", Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()

	b := newBrowser(t)
	b.do(chromedp.Navigate(cfg.AuthCodeURL("s7", oauth2.S256ChallengeOption(verifier))), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "vera"}, {"#password", alicePW}}, "main form button[type=submit]", "#code")
	loc, err := url.Parse(b.location())
	if err != nil || loc.Path != "/signin/second-factor" || !strings.HasPrefix(loc.Query().Get("next"), "/oauth2/authorize?") {
		t.Fatalf("after the password: %s, want the second-factor step with the authorization as next", b.location())
	}
	typeCode(b, totpCode(t, s, en.Secret), "button[value=allow]")
	mustContain(t, "consent page", b.text("main"), "Notes")
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#back")))
	q := rp.query()
	if q.Get("state") != "s7" || q.Get("code") == "" {
		t.Fatalf("back at the app with %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: client, Now: s.Clock.Now}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	idt.Claims(&claims)
	if idt.Subject != id || !strings.Contains(strings.Join(claims.AMR, " "), "otp") {
		t.Errorf("ID token: sub %s amr %v, want vera with otp", idt.Subject, claims.AMR)
	}
}
