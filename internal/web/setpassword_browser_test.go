package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/internal/servertest"
)

// TestBrowserSetPassword: a person opens their set-password link; the
// page's script takes the token from the fragment and removes it from
// the address bar; they choose a password and can then use it.
func TestBrowserSetPassword(t *testing.T) {
	s := servertest.New(t)
	b := newBrowser(t)
	token := newLink(t, s, "frank")
	b.do(chromedp.Navigate(s.URL+"/set-password#"+token), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := b.location(); strings.Contains(loc, "#") || strings.Contains(loc, "tksp_") {
		t.Errorf("the address bar still holds the token: %s", loc)
	}
	if b.visible("#token-field") {
		t.Error("the token field shows although the script filled it")
	}
	b.shoot("set-password")
	b.submit([][2]string{{"#password", "password1234"}, {"#confirm", "password1234"}}, "form button[type=submit]", ".error")
	mustContain(t, "error", b.text(".error"), "too common")
	b.shoot("set-password-error")
	const pw = "lichen-copper-window-64"
	b.submit([][2]string{{"#password", pw}, {"#confirm", pw}}, "form button[type=submit]", ".notice")
	mustContain(t, "notice", b.text(".notice"), "Your password is set")
	b.shoot("set-password-done")
	if _, err := s.Users.CheckPassword(t.Context(), "frank", pw); err != nil {
		t.Errorf("CheckPassword with the password set in the browser: %v", err)
	}
}

// TestBrowserSetPasswordWithoutJS: with JavaScript off the page asks for
// the code from the link, and setting the password works all the same.
func TestBrowserSetPasswordWithoutJS(t *testing.T) {
	s := servertest.New(t)
	b := newBrowser(t)
	token := newLink(t, s, "grace")
	b.noScript()
	b.do(chromedp.Navigate(s.URL+"/set-password#"+token), chromedp.WaitVisible(chromedp.CSS("#password")))
	if !b.visible("#token-field") {
		t.Fatal("without JavaScript the token field must show")
	}
	b.shoot("set-password-nojs")
	const pw = "granite-willow-parcel-19"
	b.submit([][2]string{{"#token", token}, {"#password", pw}, {"#confirm", pw}}, "form button[type=submit]", ".notice")
	if _, err := s.Users.CheckPassword(t.Context(), "grace", pw); err != nil {
		t.Errorf("CheckPassword: %v", err)
	}
}

// TestBrowserCrossOriginForm: a page on another site that posts a form
// to tokend (here: another origin on this machine, which the browser
// treats as cross-site) gets tokend's refusal, and nothing changes.
func TestBrowserCrossOriginForm(t *testing.T) {
	s := servertest.New(t)
	b := newBrowser(t)
	token := newLink(t, s, "heidi")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/set-password">
<input type="hidden" name="token" value="%s"><input type="hidden" name="password" value="attacker-chosen-pw-1">
<input type="hidden" name="confirm" value="attacker-chosen-pw-1"><button id="go">Win a prize</button></form>`, s.URL, token)
	}))
	t.Cleanup(evil.Close)
	// localhost is another site than 127.0.0.1, where tokend listens.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	b.do(chromedp.Navigate(evilURL), chromedp.Click(chromedp.ID("go"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("main h1")))
	mustContain(t, "refusal page", b.text("main"), "another site", "changed nothing")
	b.shoot("cross-origin-refused")
	if _, err := s.Users.CheckPassword(t.Context(), "heidi", "attacker-chosen-pw-1"); err == nil {
		t.Fatal("the cross-site form set the password")
	}
	form := url.Values{"token": {token}, "password": {"hazel-orbit-candle-73"}, "confirm": {"hazel-orbit-candle-73"}}
	if p := post(t, s.URL, "/set-password", form, nil); p.status != 200 {
		t.Errorf("the link after the refused cross-site form = %d, want it still usable", p.status)
	}
}

// TestBrowserNotFound: an unknown path is a page, not a JSON problem.
func TestBrowserNotFound(t *testing.T) {
	s := servertest.New(t)
	b := newBrowser(t)
	b.do(chromedp.Navigate(s.URL+"/no-such-page"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	mustContain(t, "heading", b.text("main h1"), "Page not found")
	b.shoot("not-found")
}
