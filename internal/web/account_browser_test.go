package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/internal/servertest"
)

// signInBrowser signs b in on the sign-in page and waits for the page
// it lands on to show waitFor.
func signInBrowser(b *browser, base, username, password, waitFor string) {
	b.t.Helper()
	b.do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", username}, {"#password", password}}, "main form button[type=submit]", waitFor)
}

// TestBrowserSignInAndPassword: sign in with a password, see the account,
// change the password, sign out, and sign in with the new one; a wrong
// password on the way shows the error. It runs twice: with JavaScript
// and without, since every one of these pages must work without it.
func TestBrowserSignInAndPassword(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "js"
		if !js {
			name = "nojs"
		}
		t.Run(name, func(t *testing.T) {
			s := servertest.New(t)
			newUser(t, s, "rosa", alicePW, false)
			b := newBrowser(t)
			if !js {
				b.noScript()
			}
			b.do(chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#username")))
			if js {
				b.shoot("signin")
			}
			b.submit([][2]string{{"#username", "rosa"}, {"#password", "not-the-password-9"}}, "main form button[type=submit]", ".error")
			mustContain(t, "error", b.text(".error"), "username or password is not right")
			if js {
				b.shoot("signin-error")
			}
			b.do(chromedp.Clear(chromedp.CSS("#password")))
			b.submit([][2]string{{"#password", alicePW}}, "main form button[type=submit]", "#profile")
			mustContain(t, "account", b.text("main"), "Rosa Example", "rosa@example.com", "Change your password")
			if js {
				b.shoot("account")
			}
			b.follow(`a[href="/account/password"]`, "#current")
			if js {
				b.shoot("account-password")
			}
			const next = "tundra-violet-pocket-83"
			b.submit([][2]string{{"#current", alicePW}, {"#password", next}, {"#confirm", next}}, "main form button[type=submit]", ".notice")
			mustContain(t, "notice", b.text(".notice"), "Your password is changed")
			b.follow("form.signout button", "#username")
			mustContain(t, "signed out", b.text(".notice"), "You are signed out")
			signInBrowser(b, s.URL, "rosa", next, "#profile")
		})
	}
}

// TestBrowserEndSession: a person signed in on two browsers ends the
// other one's session from the sessions page; that browser is then
// signed out.
func TestBrowserEndSession(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "sami", alicePW, false)
	other := newAgent(t, s.URL)
	other.signIn("sami", alicePW, "/account")
	b := newBrowser(t)
	signInBrowser(b, s.URL, "sami", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/account/sessions"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("table")))
	text := b.text("table")
	mustContain(t, "sessions", text, "this browser", "Chrome (headless) on Linux", "Firefox on Linux")
	b.shoot("account-sessions")
	b.do(chromedp.Click(chromedp.CSS(`tr:not(.current) form button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "notice", b.text(".notice"), "The session was ended")
	if strings.Contains(b.text("table"), "Firefox") {
		t.Error("the ended session is still listed")
	}
	wantRedirect(t, "the other browser", other.get("/account"), "/signin?next=%2Faccount")
}

// TestBrowserCrossOriginSignedIn: a page of another origin on the same
// site (another port of 127.0.0.1, so the SameSite=Lax cookie is sent)
// posts "end all other sessions" with the person's cookie; tokend
// refuses it and the other session lives on.
func TestBrowserCrossOriginSignedIn(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "tess", alicePW, false)
	other := newAgent(t, s.URL)
	other.signIn("tess", alicePW, "/account")
	b := newBrowser(t)
	signInBrowser(b, s.URL, "tess", alicePW, "#profile")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/account/sessions/end-others"><button id="go">Claim</button></form>`, s.URL)
	}))
	t.Cleanup(evil.Close)
	b.do(chromedp.Navigate(evil.URL), chromedp.Click(chromedp.ID("go"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("main h1")))
	mustContain(t, "refusal page", b.text("main"), "another site", "changed nothing")
	wantPage(t, "the other session", other.get("/account"), 200)
	b.do(chromedp.Navigate(s.URL+"/account/sessions"), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "sessions", b.text("table"), "Firefox on Linux")
}

// TestBrowserEnrol: an admin without a second factor, under the default
// policy, reaches only the enrolment page.
func TestBrowserEnrol(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "uma", alicePW, true)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "uma", alicePW, "main form.inline")
	if loc := b.location(); !strings.HasSuffix(loc, "/signin/enrol") {
		t.Fatalf("an admin without a second factor landed on %s", loc)
	}
	mustContain(t, "enrol page", b.text("main"), "needs a second factor")
	b.shoot("signin-enrol")
	b.do(chromedp.Navigate(s.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if loc := b.location(); !strings.HasSuffix(loc, "/signin/enrol") {
		t.Errorf("a pending session reached %s", loc)
	}
}
