package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// TestBrowserConsole: an admin creates an API with a scope description
// and a rule for personal access tokens, creates a key for it (shown
// once), sees /v1/verify accept it, revokes it on its page and sees
// /v1/verify refuse it; then filters every user's tokens and revokes
// two at once with the checkboxes. The console pages are shot at
// desktop and phone width.
func TestBrowserConsole(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	newUser(t, s, "root", alicePW, true)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "root", alicePW, "#profile")

	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/admin/users"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`nav.console a[href="/admin/apis"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`a[href="/admin/apis/new"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#audience")))
	b.shoot("admin-new-api")
	b.submit([][2]string{{"#name", "Wiki"}, {"#audience", "https://wiki.example"}, {"#key_prefix", "wiki"}, {"#scopes", "read write"},
		{"#scope_descriptions", "read: Read every page"}, {"#user_scopes", "*: read"}, {"#pat_max_ttl", "90d"}},
		"#settings-heading + form button[type=submit]", ".notice")
	mustContain(t, "API page", b.text("main"), "The API was created")
	b.shoot("admin-api")
	b.do(chromedp.Navigate(s.URL+"/admin/apis"), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "APIs", b.text("table"), "Wiki", "https://wiki.example")
	b.shoot("admin-apis")

	b.do(chromedp.Click(chromedp.CSS(`nav.console a[href="/admin/keys"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`a[href="/admin/keys/new"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#subject")))
	b.shoot("admin-new-key")
	b.submit([][2]string{{"#subject", "svc-sync"}, {"#name", "Sync job"}, {"#scopes", "read"}}, "main form button[type=submit]", "#secret")
	secret := b.text("#secret")
	b.shoot("admin-key-secret")
	verify := func() api.Code {
		t.Helper()
		r, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: secret, Audience: "https://wiki.example", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	if c := verify(); c != api.CodeValid {
		t.Fatalf("verify the new key = %s", c)
	}
	b.do(chromedp.Click(chromedp.CSS(`main a[href^="/admin/keys/key_"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#details")))
	b.shoot("admin-key")
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "revoked key", b.text("main"), "revoked")
	if c := verify(); c != api.CodeRevoked {
		t.Errorf("verify the revoked key = %s, want %s", c, api.CodeRevoked)
	}
	b.do(chromedp.Navigate(s.URL+"/admin/keys"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.shoot("admin-keys")

	// Every user's tokens: filter to one user, tick two, revoke them.
	wiki := mustAPIID(t, s, "Wiki")
	uma := newUser(t, s, "uma", alicePW, false)
	vic := newUser(t, s, "vic", alicePW, false)
	var umaTokens []string
	for _, n := range []string{"laptop", "ci", "backup"} {
		id, _ := newPAT(t, s, uma.ID, wiki, n, 30*24*time.Hour)
		umaTokens = append(umaTokens, id)
	}
	newPAT(t, s, vic.ID, wiki, "vic-phone", 3*24*time.Hour)
	b.do(chromedp.Click(chromedp.CSS(`nav.console a[href="/admin/tokens"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "every token", b.text("table"), "laptop", "vic-phone")
	b.submit([][2]string{{"#user", "uma"}}, "form.filters button", "#grants-heading")
	if got := b.text("table"); strings.Contains(got, "vic-phone") {
		t.Errorf("the list of uma's tokens shows vic's: %s", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`input[value="`+umaTokens[0]+`"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`input[value="`+umaTokens[2]+`"]`), chromedp.NodeVisible))
	b.shoot("admin-tokens")
	b.do(chromedp.Click(chromedp.CSS(`form[action="/admin/tokens/revoke"] button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	for i, id := range umaTokens {
		k, err := s.Keys.AdminPAT(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if revoked := !k.RevokedAt.IsZero(); revoked != (i != 1) {
			t.Errorf("token %d revoked = %v", i, revoked)
		}
	}
	mustContain(t, "after revoke", b.text("main"), "Tokens of uma", "revoked")
	b.do(chromedp.Navigate(s.URL+"/admin/tokens?show=expiring"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := b.text("table"); !strings.Contains(got, "vic-phone") || strings.Contains(got, "laptop") {
		t.Errorf("expiring soon lists: %s", got)
	}

	for _, p := range []struct{ path, wait, name string }{
		{"/admin/clients/new", "#api_scopes", "admin-new-client"},
		{"/admin/signing-keys", "table", "admin-signing-keys"},
		{"/admin/audit", "table", "admin-audit"},
	} {
		b.do(chromedp.Navigate(s.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
		b.shoot(p.name)
	}
}

// mustAPIID is the id of the API named name.
func mustAPIID(t *testing.T, s *servertest.Server, name string) string {
	t.Helper()
	as, err := s.Keys.APIs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no API %s", name)
	return ""
}

// TestBrowserConsoleRefusals: a page of another origin posts "revoke"
// with an admin's cookie and tokend refuses it; a person without the
// admin role gets the 403 page on the console.
func TestBrowserConsoleRefusals(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	newUser(t, s, "root", alicePW, true)
	newUser(t, s, "pete", alicePW, false)
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Mail", Audience: "https://mail.example", KeyPrefix: "mail",
		Scopes: []string{"send"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "svc", Scopes: []string{"send"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	signInBrowser(b, s.URL, "root", alicePW, "#profile")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/admin/keys/%s/revoke"><button id="go">Win a prize</button></form>`, s.URL, k.Key.ID)
	}))
	t.Cleanup(evil.Close)
	b.do(chromedp.Navigate(evil.URL), chromedp.Click(chromedp.ID("go"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("main h1")))
	mustContain(t, "refusal page", b.text("main"), "another site", "changed nothing")
	if got, err := s.Keys.Key(t.Context(), k.Key.ID); err != nil || !got.RevokedAt.IsZero() {
		t.Errorf("a cross-origin form revoked the key: %v", err)
	}

	p := newBrowser(t)
	signInBrowser(p, s.URL, "pete", alicePW, "#profile")
	if p.visible(`nav a[href="/admin/users"]`) {
		t.Error("a non-admin sees the admin link")
	}
	p.do(chromedp.Navigate(s.URL+"/admin/keys/"+k.Key.ID), chromedp.WaitVisible(chromedp.CSS("main h1")))
	mustContain(t, "non-admin", p.text("main"), "Refused", "for administrators")
	if strings.Contains(p.text("body"), "svc") {
		t.Error("the refusal page shows the key")
	}
	p.shoot("admin-refused")
}

// TestBrowserConsoleGrants: an admin finds the app a person authorized
// through the device flow on the list of every user's grants, filters
// to that person, ticks it and revokes it; the app's refresh token is
// then refused. The page is shot at desktop and phone width.
func TestBrowserConsoleGrants(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	paymentsAPI(t, s)
	newUser(t, s, "root", alicePW, true)
	rosa := newUser(t, s, "rosa", alicePW, false)
	sam := newUser(t, s, "sam", alicePW, false)
	rosaApp, rosaRefresh := deviceApp(t, s, rosa.ID)
	samApp, samRefresh := deviceApp(t, s, sam.ID)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "root", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`nav a[href="/admin/users"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`nav.console a[href="/admin/grants"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#grants-heading + form table")))
	mustContain(t, "every grant", b.text("main table"), "CLI app", "rosa", "sam", "Payments")
	b.shoot("admin-grants")
	// The filter is a GET form: the next page carries the name in the
	// input's value attribute.
	b.submit([][2]string{{"#user", "rosa"}}, "form.filters button", `#user[value="rosa"]`)
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll("input[name=grant]").length`)); n != 1 {
		t.Fatalf("rosa's filter lists %d grants", n)
	}
	b.do(chromedp.Click(chromedp.CSS(`input[name=grant]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`#grants-heading + form button.danger`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "notice", b.text(".notice"), "The selected grants are revoked")
	mustContain(t, "after", b.text("main"), "No grant matches the filter")
	refresh := func(clientID, token string) int {
		resp, err := http.PostForm(s.URL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token},
			"client_id": {clientID}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := refresh(rosaApp, rosaRefresh); st != 400 {
		t.Errorf("rosa's app refreshes after the revoke: %d", st)
	}
	if st := refresh(samApp, samRefresh); st != 200 {
		t.Errorf("sam's app, not ticked, refreshes: %d", st)
	}
}
