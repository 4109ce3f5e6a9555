package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// paymentsAPI creates an API whose policy lets everyone hold personal
// access tokens with "read" for at most 30 days, with the owner's words
// for each scope.
func paymentsAPI(t *testing.T, s *servertest.Server) *api.API {
	t.Helper()
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Payments", Audience: "https://pay.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "pay", Policy: api.Policy{
			ScopeDescriptions: map[string]string{"read": "See your payments", "write": "Make payments"},
			UserScopes:        []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}},
			PATMaxTTL:         api.Duration(30 * 24 * time.Hour), DynamicClientScopes: []string{"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func verifyCode(t *testing.T, s *servertest.Server, token, ip string) api.Code {
	t.Helper()
	res, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: token, Audience: "https://pay.example",
		Scopes: []string{"read"}, ClientIP: ip})
	if err != nil {
		t.Fatal(err)
	}
	return res.Code
}

// TestBrowserMyTokens: a person creates a personal access token on the
// page (only the scopes and expiries the API's policy allows them are
// offered), sees the secret once, uses it against /v1/verify, sees its
// last use with the client address on the page and in the token's
// recent uses, revokes it with the button, and it is refused.
func TestBrowserMyTokens(t *testing.T) {
	s := servertest.New(t)
	a := paymentsAPI(t, s)
	newUser(t, s, "rosa", alicePW, false)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "rosa", alicePW, "#profile")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/tokens"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#pats")))
	mustContain(t, "empty page", b.text("main"), "You have no personal access tokens", "this browser", "Revoke everything")
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/tokens/new"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#api_id")))
	b.do(chromedp.SetValue(chromedp.CSS("#api_id"), a.ID), chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#name")))
	form := b.text("main form")
	mustContain(t, "create form", form, "read", "See your payments", "For Payments")
	if strings.Contains(form, "Make payments") {
		t.Errorf("the form offers write, which the policy does not grant: %q", form)
	}
	expiries := run(b, chromedp.Evaluate[string](`[...document.querySelectorAll("#expiry option")].map(o => o.value).join(",")`))
	if expiries != "7,30" {
		t.Errorf("expiry choices = %q, want 7,30 (the API's maximum is 30 days, no 'never')", expiries)
	}
	b.shoot("token-new")
	b.do(chromedp.Click(chromedp.CSS(`input[name=scope][value=read]`), chromedp.NodeVisible))
	b.submit([][2]string{{"#name", "CI deploys"}, {"#allowed_cidrs", "203.0.113.0/24"}}, "main form button[type=submit]", "#secret")
	secret := b.text("#secret")
	if !strings.HasPrefix(secret, "tkpt_") {
		t.Fatalf("secret = %q", secret)
	}
	b.shoot("token-secret")

	if c := verifyCode(t, s, secret, "203.0.113.9"); c != api.CodeValid {
		t.Fatalf("the new token verifies as %s", c)
	}
	if c := verifyCode(t, s, secret, "198.51.100.1"); c != api.CodeForbiddenIP {
		t.Errorf("from outside the allowlist: %s, want FORBIDDEN_IP", c)
	}
	if err := s.Engine.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS(`a.button[href="/account/tokens"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("section[aria-labelledby=pats] table")))
	mustContain(t, "token row", b.text("section[aria-labelledby=pats] table"), "CI deploys", "Payments", "read", "from 203.0.113.9")
	b.shoot("tokens")
	b.do(chromedp.Click(chromedp.CSS(`section[aria-labelledby=pats] table td a`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#uses")))
	mustContain(t, "recent uses", b.text("main"), "203.0.113.9", "VALID", "198.51.100.1", "FORBIDDEN_IP", "203.0.113.0/24")
	b.shoot("token")
	detail := run(b, chromedp.Location())
	b.do(chromedp.SetValue(chromedp.CSS("#grace"), "1h"), chromedp.Click(chromedp.CSS(`form[action$="/regenerate"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#secret")))
	mustContain(t, "regenerated", b.text("main"), "CI deploys", "keeps working for 1 hour")
	fresh := b.text("#secret")
	b.shoot("token-regenerated")
	if fresh == secret || !strings.HasPrefix(fresh, "tkpt_") {
		t.Fatalf("regenerated secret = %q", fresh)
	}
	for _, sec := range []string{fresh, secret} {
		if c := verifyCode(t, s, sec, "203.0.113.9"); c != api.CodeValid {
			t.Errorf("after Regenerate with an hour's grace a secret verifies as %s", c)
		}
	}
	b.do(chromedp.Navigate(detail), chromedp.WaitVisible(chromedp.CSS("#uses")))
	b.do(chromedp.Click(chromedp.CSS(`main form button.danger`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "notice", b.text(".notice"), "The token was revoked")
	if c := verifyCode(t, s, fresh, "203.0.113.9"); c != api.CodeRevoked {
		t.Errorf("after the revoke button the regenerated token verifies as %s, want REVOKED", c)
	}
	if c := verifyCode(t, s, secret, "203.0.113.9"); c != api.CodeRevoked {
		t.Errorf("after the revoke button the token verifies as %s, want REVOKED", c)
	}
	b.do(chromedp.Click(chromedp.CSS(`a[href="/account/tokens/revoke-all"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("main form button.danger")))
	b.shoot("revoke-all")
}
