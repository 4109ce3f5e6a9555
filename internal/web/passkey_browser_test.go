package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
	"golang.org/x/oauth2"
)

// virtualAuthenticator attaches one of Chrome's virtual authenticators
// (the DevTools WebAuthn domain) to b's tab: a platform authenticator
// that keeps discoverable credentials, verifies the user and answers
// presence checks at once, as a laptop's fingerprint reader would. It
// returns its id.
func virtualAuthenticator(b *browser) webauthn.AuthenticatorID {
	b.t.Helper()
	var id webauthn.AuthenticatorID
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
				Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
				AutomaticPresenceSimulation: true, DefaultBackupEligibility: true},
		})
		id = res.AuthenticatorID
		return err
	}))
	return id
}

// noAutofill makes every page of b's tab report that the browser offers
// no conditional mediation, so that the sign-in page starts no autofill
// request: Chrome's virtual authenticator answers such a request at once,
// as if the person had picked the passkey from the autofill list, and a
// test of the button must not race it.
func noAutofill(b *browser) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`})
		return err
	}))
}

// arrive waits until the tab shows path (and query), after a script or
// a form navigated there, then until sel is visible. Unlike WaitVisible
// alone it cannot match an element of the page being left.
func (b *browser) arrive(path, sel string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`document.readyState === "complete" ? location.pathname + location.search : ""`))
		cancel()
		if err == nil && got == path {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: still at %s, want %s", b.location(), path)
		}
		time.Sleep(50 * time.Millisecond) // polling a page that is navigating
	}
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// authenticatorCredentials returns how many credentials the virtual
// authenticator holds.
func authenticatorCredentials(b *browser, id webauthn.AuthenticatorID) int {
	b.t.Helper()
	var n int
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		n = len(res.Credentials)
		return err
	}))
	return n
}

// TestBrowserPasskey: a person signed in with their password adds a
// passkey on /account/passkeys (Chrome's virtual authenticator makes it),
// signs out, and signs in again with the passkey alone; then they sign
// in with their password and use the passkey as the second step, and
// finally remove it.
func TestBrowserPasskey(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "pia", alicePW, false)
	b := newBrowser(t)
	auth := virtualAuthenticator(b)
	noAutofill(b)
	// Passkeys are bound to the host name localhost: WebAuthn refuses
	// IP addresses.
	base := s.LocalhostURL
	signInBrowser(b, base, "pia", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/passkeys"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#passkey-name")))
	b.shoot("account-passkeys-empty")
	b.do(chromedp.SendKeys(chromedp.CSS("#passkey-name"), "laptop", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[data-passkey=register] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=added", ".notice")
	mustContain(t, "notice", b.text(".notice"), "Your passkey is added")
	mustContain(t, "passkeys", b.text("table"), "laptop")
	b.shoot("account-passkeys")
	if n := authenticatorCredentials(b, auth); n != 1 {
		t.Fatalf("the virtual authenticator holds %d credentials, want 1", n)
	}
	ps, err := s.Users.Passkeys(t.Context(), mustUserID(t, s, "pia"))
	if err != nil || len(ps) != 1 || ps[0].Name != "laptop" {
		t.Fatalf("stored passkeys = %+v, %v; want laptop", ps, err)
	}

	// Sign out, and back in with the passkey: no username, no password.
	b.do(chromedp.Click(chromedp.CSS("form.signout button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.shoot("signin-passkey")
	b.do(chromedp.Click(chromedp.CSS(`button[data-passkey=signin]`), chromedp.NodeVisible))
	b.arrive("/account", "#profile")
	mustContain(t, "account", b.text("main"), "pia")
	if ps, _ := s.Users.Passkeys(t.Context(), mustUserID(t, s, "pia")); len(ps) != 1 || ps[0].LastUsedAt.IsZero() {
		t.Errorf("after the passkey sign-in the passkey shows no use: %+v", ps)
	}

	// The password, then the passkey as the second step.
	b.do(chromedp.Click(chromedp.CSS("form.signout button"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#username")))
	// The sign-in page has a passkey button too: wait for the address.
	signInBrowser(b, base, "pia", alicePW, "main")
	b.arrive("/signin/second-factor", `button[data-passkey=signin]`)
	b.shoot("second-factor-passkey")
	b.do(chromedp.Click(chromedp.CSS(`button[data-passkey=signin]`), chromedp.NodeVisible))
	b.arrive("/account", "#profile")

	// Rename and remove, without JavaScript's help (plain forms).
	b.do(chromedp.Navigate(base+"/account/passkeys"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.do(chromedp.Clear(chromedp.CSS(`form[action$="/rename"] input[name=name]`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`form[action$="/rename"] input[name=name]`), "work laptop"),
		chromedp.Click(chromedp.CSS(`form[action$="/rename"] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=renamed", ".notice")
	mustContain(t, "passkeys", b.text("table"), "work laptop")
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/remove"] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=removed", ".notice")
	mustContain(t, "notice", b.text(".notice"), "The passkey is removed")
	if ps, _ := s.Users.Passkeys(t.Context(), mustUserID(t, s, "pia")); len(ps) != 0 {
		t.Errorf("after remove: %+v, want none", ps)
	}
}

// TestBrowserPasskeyRefused: the passkey sign-in button shows the
// server's refusal when the authenticator holds no passkey of this site
// that tokend knows (removed on the server, kept by the authenticator).
func TestBrowserPasskeyRefused(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "quinn", alicePW, false)
	b := newBrowser(t)
	virtualAuthenticator(b)
	noAutofill(b)
	base := s.LocalhostURL
	signInBrowser(b, base, "quinn", alicePW, "#profile")
	b.do(chromedp.Navigate(base+"/account/passkeys"), chromedp.WaitVisible(chromedp.CSS("#passkey-name")),
		chromedp.Click(chromedp.CSS(`form[data-passkey=register] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=added", ".notice")
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/remove"] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=removed", ".notice")
	b.do(chromedp.Click(chromedp.CSS("form.signout button"), chromedp.NodeVisible))
	b.arrive("/signin?signed-out", "#username")
	b.do(chromedp.Click(chromedp.CSS(`button[data-passkey=signin]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#passkey-status")))
	mustContain(t, "passkey status", b.text("#passkey-status"), "not accepted")
	if loc := b.location(); loc != base+"/signin?signed-out" {
		t.Errorf("after a refused passkey: %s, want to stay on the sign-in page", loc)
	}
}

// TestBrowserPasskeyAutofill: on the sign-in page the script starts a
// conditional-mediation request (the passkeys offered in the username
// field's autofill, autocomplete="username webauthn"). Chrome's virtual
// authenticator answers it as a person picking their passkey there would,
// so the person lands on their account without pressing anything.
func TestBrowserPasskeyAutofill(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "ravi", alicePW, false)
	b := newBrowser(t)
	virtualAuthenticator(b)
	base := s.LocalhostURL
	signInBrowser(b, base, "ravi", alicePW, "#profile")
	b.do(chromedp.Navigate(base+"/account/passkeys"), chromedp.WaitVisible(chromedp.CSS("#passkey-name")),
		chromedp.Click(chromedp.CSS(`form[data-passkey=register] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=added", ".notice")
	if !run(b, chromedp.Evaluate[bool](`PublicKeyCredential.isConditionalMediationAvailable()`, chromedp.EvalAwaitPromise)) {
		t.Skip("this chromium offers no conditional mediation")
	}
	b.do(chromedp.Click(chromedp.CSS("form.signout button"), chromedp.NodeVisible))
	b.arrive("/account", "#profile")
	if ps, _ := s.Users.Passkeys(t.Context(), mustUserID(t, s, "ravi")); len(ps) != 1 || ps[0].LastUsedAt.IsZero() {
		t.Errorf("after the autofill sign-in the passkey shows no use: %+v", ps)
	}
}

// TestBrowserPasskeyAutofillQuiet: the sign-in page opened at an address
// passkeys cannot work on (127.0.0.1: WebAuthn needs a host name) starts
// its autofill request, which the browser rejects at once ("This is an
// invalid domain"). The person asked for nothing, so the page shows no
// error; it used to show that one, which also raced the sign-in form's
// own error in TestBrowserSignInAndPassword.
func TestBrowserPasskeyAutofillQuiet(t *testing.T) {
	s := servertest.New(t)
	b := newBrowser(t)
	b.do(chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#username")))
	if !run(b, chromedp.Evaluate[bool](`PublicKeyCredential.isConditionalMediationAvailable()`, chromedp.EvalAwaitPromise)) {
		t.Skip("this chromium offers no conditional mediation")
	}
	// Until the autofill request has ended, one way or the other.
	run(b, chromedp.Poll[bool](`document.querySelector('[data-conditional="off"]') !== null || `+
		`!document.getElementById("passkey-status").hidden`, chromedp.WithPollingTimeout(stepTimeout)))
	if b.visible("#passkey-status") {
		t.Errorf("the sign-in page shows %q, unasked", b.text("#passkey-status"))
	}
	if !b.visible(`button[data-passkey=signin]`) {
		t.Error("the passkey button is gone")
	}
}

// TestBrowserPasskeyEnrol: where policy demands a second factor of
// everyone, a person without one is held on the enrolment step after
// their password; adding a passkey there completes the session.
func TestBrowserPasskeyEnrol(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAEveryone})
	newUser(t, s, "sven", alicePW, false)
	b := newBrowser(t)
	virtualAuthenticator(b)
	noAutofill(b)
	base := s.LocalhostURL
	signInBrowser(b, base, "sven", alicePW, `a[href="/account/passkeys"]`)
	if loc := b.location(); loc != base+"/signin/enrol" {
		t.Fatalf("after the password: %s, want the enrolment step", loc)
	}
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/passkeys"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#passkey-name")),
		chromedp.Click(chromedp.CSS(`form[data-passkey=register] button`), chromedp.NodeVisible))
	b.arrive("/account/passkeys?done=added", ".notice")
	b.do(chromedp.Navigate(base + "/account"))
	b.arrive("/account", "#profile")
}

// TestBrowserAuthorizePasskeyEnrol: an app's authorization request meets
// a person whom policy holds on the enrolment step; they add a passkey
// there and land on that request's consent page, then back at the app.
// (The browser uses the localhost address: passkeys need a host name.)
func TestBrowserAuthorizePasskeyEnrol(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAEveryone})
	newUser(t, s, "wanda", alicePW, false)
	rp := newRelyingParty(t)
	client := registerPublic(t, s, map[string]any{"client_name": "Photos", "token_endpoint_auth_method": "none",
		"application_type": "native", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"grant_types": []string{"authorization_code"}})
	authURL := s.LocalhostURL + "/oauth2/authorize?" + url.Values{"client_id": {client}, "response_type": {"code"},
		"redirect_uri": {rp.URL + "/callback"}, "scope": {"openid"}, "state": {"e1"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}.Encode()
	b := newBrowser(t)
	virtualAuthenticator(b)
	noAutofill(b)
	b.do(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "wanda"}, {"#password", alicePW}}, "main form button[type=submit]", `a[href^="/account/passkeys?next="]`)
	b.do(chromedp.Click(chromedp.CSS(`a[href^="/account/passkeys?next="]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#passkey-name")),
		chromedp.Click(chromedp.CSS(`form[data-passkey=register] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	mustContain(t, "consent page", b.text("main"), "Photos")
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#back")))
	if q := rp.query(); q.Get("state") != "e1" || q.Get("code") == "" {
		t.Fatalf("back at the app with %v", q)
	}
}
