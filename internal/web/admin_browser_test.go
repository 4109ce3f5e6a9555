package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// TestBrowserAdminCreatesUser: an admin creates a user on the admin
// pages, gets the set-password link, and the new person uses it in
// another browser and signs in.
func TestBrowserAdminCreatesUser(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	newUser(t, s, "root", alicePW, true)
	for _, name := range []string{"alma", "bert"} {
		newUser(t, s, name, alicePW, false)
	}
	b := newBrowser(t)
	signInBrowser(b, s.URL, "root", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/admin/users"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "users", b.text("table"), "alma", "bert", "root")
	b.shoot("admin-users")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/admin/users/new"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.shoot("admin-new-user")
	b.submit([][2]string{{"#username", "cleo"}, {"#display_name", "Cleo Example"}, {"#email", "cleo@example.com"}, {"#groups", "ops, dev"}},
		"main form button[type=submit]", "#set-password-link")
	link := b.text("#set-password-link")
	if !strings.HasPrefix(link, s.URL+"/set-password#tksp_") {
		t.Fatalf("link = %q", link)
	}
	b.shoot("admin-user-created")

	person := newBrowser(t)
	const pw = "meadow-quartz-violin-15"
	person.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#password")))
	person.submit([][2]string{{"#password", pw}, {"#confirm", pw}}, "main form button[type=submit]", ".notice")
	signInBrowser(person, s.URL, "cleo", pw, "#profile")
	mustContain(t, "cleo's account", person.text("main"), "Cleo Example", "ops")

	b.do(chromedp.Navigate(s.URL+"/admin/users/"+mustUserID(t, s, "alma")), chromedp.WaitVisible(chromedp.CSS("#details")))
	b.shoot("admin-user")
}
