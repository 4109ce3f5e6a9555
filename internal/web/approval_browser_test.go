package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// gatedAPI creates an API whose policy lets everyone hold read and write
// in personal access tokens, holds write for an administrator's
// approval, and self-registered clients too.
func gatedAPI(t *testing.T, s *servertest.Server) *api.API {
	t.Helper()
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Ledger", Audience: "https://ledger.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "ldg", Policy: api.Policy{
			ScopeDescriptions: map[string]string{"read": "See entries", "write": "Post entries"},
			UserScopes:        []api.UserScopes{{Everyone: true, Scopes: []string{"read", "write"}}},
			PATMaxTTL:         api.Duration(30 * 24 * time.Hour), PATApprovalScopes: []string{"write"}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ledgerCode(t *testing.T, s *servertest.Server, token string) api.Code {
	t.Helper()
	res, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: token, Audience: "https://ledger.example", Scopes: []string{"write"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Code
}

// TestBrowserApproval: a person creates a token with a scope the API
// holds for approval on the "my tokens" page and sees it pending (it
// verifies as PENDING_APPROVAL); an admin finds it on the console's
// Approvals page, a denial without a reason is refused there, and the
// admin approves it with a reason; the person sees it approved with the
// reason, and it verifies. A second token is denied with a reason the
// person reads, and never verifies.
func TestBrowserApproval(t *testing.T) {
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	a := gatedAPI(t, s)
	newUser(t, s, "root", alicePW, true)
	newUser(t, s, "omar", alicePW, false)
	person, admin := newBrowser(t), newBrowser(t)
	signInBrowser(person, s.URL, "omar", alicePW, "#profile")
	signInBrowser(admin, s.URL, "root", alicePW, "#profile")

	create := func(name string) string {
		t.Helper()
		person.do(chromedp.Navigate(s.URL+"/account/tokens/new?api_id="+a.ID), chromedp.WaitVisible(chromedp.CSS("#name")))
		mustContain(t, "create form", person.text("main form"), "Post entries (needs an administrator's approval)")
		person.do(chromedp.Click(chromedp.CSS(`input[name=scope][value=write]`), chromedp.NodeVisible))
		person.submit([][2]string{{"#name", name}}, "main form button[type=submit]", "#secret")
		mustContain(t, "secret page", person.text("main"), "An administrator must approve this token")
		return person.text("#secret")
	}
	secret := create("ledger sync")
	person.shoot("token-secret-pending")
	if c := ledgerCode(t, s, secret); c != api.CodePendingApproval {
		t.Fatalf("the new token verifies as %s, want PENDING_APPROVAL", c)
	}
	person.do(chromedp.Navigate(s.URL+"/account/tokens"), chromedp.WaitVisible(chromedp.CSS("section[aria-labelledby=pats] table")))
	mustContain(t, "my tokens", person.text("section[aria-labelledby=pats] table"), "ledger sync", "pending", "Waiting for an administrator's approval")

	admin.do(chromedp.Navigate(s.URL+"/admin/users"), chromedp.WaitVisible(chromedp.CSS("table")))
	admin.follow(`nav a[href="/admin/approvals"]`, "#approvals-heading")
	mustContain(t, "approvals", admin.text("main table"), "ledger sync", "omar", "Ledger: write", "Personal access token")
	admin.shoot("admin-approvals")
	// Deny without a reason: refused, nothing changes.
	admin.do(chromedp.Click(chromedp.CSS(`button[value=deny]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	mustContain(t, "refused denial", admin.text("#form-error"), "Reason", "required to deny")
	if got := run(admin, chromedp.Evaluate[string](`document.querySelector("input[name=reason]").getAttribute("aria-invalid") || ""`)); got != "true" {
		t.Errorf("the reason field is not marked invalid after the refused denial (aria-invalid %q)", got)
	}
	if c := ledgerCode(t, s, secret); c != api.CodePendingApproval {
		t.Errorf("after the refused denial the token verifies as %s, want PENDING_APPROVAL", c)
	}
	admin.submit([][2]string{{"input[name=reason]", "ledger sync may post"}}, "button[value=approve]", ".notice")
	mustContain(t, "notice", admin.text(".notice"), "Approved")
	mustContain(t, "empty list", admin.text("main section.card"), "Nothing is waiting for a decision")
	if c := ledgerCode(t, s, secret); c != api.CodeValid {
		t.Errorf("after the approval the token verifies as %s, want VALID", c)
	}
	person.do(chromedp.Navigate(s.URL+"/account/tokens"), chromedp.WaitVisible(chromedp.CSS("section[aria-labelledby=pats] table")))
	row := person.text("section[aria-labelledby=pats] table")
	mustContain(t, "my tokens after the approval", row, "Approved by an administrator: ledger sync may post")
	if strings.Contains(row, "pending") {
		t.Errorf("my tokens still shows the token pending: %q", row)
	}
	person.shoot("tokens-approved")

	denied := create("ledger cleanup")
	admin.do(chromedp.Navigate(s.URL+"/admin/approvals"), chromedp.WaitVisible(chromedp.CSS("button[value=deny]")))
	admin.submit([][2]string{{"input[name=reason]", "cleanup runs from the ops account"}}, "button[value=deny]", ".notice")
	mustContain(t, "notice", admin.text(".notice"), "Denied")
	if c := ledgerCode(t, s, denied); c != api.CodeRevoked {
		t.Errorf("the denied token verifies as %s, want REVOKED", c)
	}
	admin.do(chromedp.Navigate(s.URL+"/admin/approvals?show=denied"), chromedp.WaitVisible(chromedp.CSS("main table")))
	mustContain(t, "denied list", admin.text("main table"), "ledger cleanup", "denied", "cleanup runs from the ops account")
	person.do(chromedp.Navigate(s.URL+"/account/tokens"), chromedp.WaitVisible(chromedp.CSS("section[aria-labelledby=pats] table")))
	mustContain(t, "my tokens after the denial", person.text("section[aria-labelledby=pats] table"), "ledger cleanup", "denied",
		"Denied by an administrator: cleanup runs from the ops account")
}
