package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
)

// TestConsoleApprovals: the API form sets the approval policy; a token
// asking a gated scope is listed; a person without the admin role gets
// 403 and a cross-origin form is refused, changing nothing; an unknown
// id and a missing decision are refused on the page; the admin approves
// it.
func TestConsoleApprovals(t *testing.T) {
	s, admin := adminAgent(t)
	ctx := t.Context()
	apiID := newAPIOnPage(t, admin, "Gated", "https://gated.example", "gtd", url.Values{"user_scopes": {"*: read write"},
		"pat_approval_scopes": {"write"}, "approve_dynamic_clients": {"yes"}, "dynamic_client_scopes": {"read"}})
	a, err := s.Client.GetAPI(ctx, apiID)
	if err != nil || !a.Policy.ApproveDynamicClients || strings.Join(a.Policy.PATApprovalScopes, " ") != "write" {
		t.Fatalf("API after the form = policy %+v, %v; want the approval settings", a.Policy, err)
	}
	wantPage(t, "API page", admin.get("/admin/apis/"+apiID), 200, `value="write"`, `name="approve_dynamic_clients" value="yes" checked`)
	p := admin.post("/admin/apis", url.Values{"name": {"Bad"}, "audience": {"https://bad.example"}, "key_prefix": {"bad"},
		"scopes": {"read"}, "pat_approval_scopes": {"delete"}})
	wantPage(t, "unknown approval scope", p, 400, "Scopes that need an administrator&#39;s approval")

	pete := newUser(t, s, "pete", alicePW, false)
	tok, err := s.Client.CreateUserToken(ctx, pete.ID, api.CreateTokenRequest{APIID: apiID, Name: "deploys", Scopes: []string{"write"},
		TTL: new(api.Duration(3600e9))})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := s.OAuth.Register(ctx, "", "192.0.2.1", oauth.Registration{ClientName: "Gated sync",
		GrantTypes: []string{oauth.GrantClientCredentials}, APIScopes: map[string][]string{apiID: {"read"}}})
	if err != nil || reg.Approval == nil {
		t.Fatalf("Register = %+v, %v; want it pending", reg.Approval, err)
	}
	wantPage(t, "approvals", admin.get("/admin/approvals"), 200, "deploys", "pete", "Gated: write", `action="/admin/approvals/`+tok.Token.ID+`"`,
		"Gated sync", "OAuth client", "self-registered", "Gated: read", `action="/admin/approvals/`+reg.ClientID+`"`)

	other := newAgent(t, s.URL)
	other.signIn("pete", alicePW, "/account")
	wantPage(t, "approvals by a person", other.get("/admin/approvals"), 403, "for administrators")
	wantPage(t, "approve by a person", other.post("/admin/approvals/"+tok.Token.ID, url.Values{"decision": {"approve"}}), 403)
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"},
		"Sec-Fetch-Site": {"cross-site"}}
	wantPage(t, "cross-origin approve", admin.send("POST", "/admin/approvals/"+tok.Token.ID, strings.NewReader("decision=approve"), h), 403, "another site")
	wantPage(t, "no decision", admin.post("/admin/approvals/"+tok.Token.ID, url.Values{"reason": {"ok"}}), 400, "press Approve or Deny")
	wantPage(t, "unknown id", admin.post("/admin/approvals/pat_06c8m0b1kq3fd2q3v1hq5e8r9c", url.Values{"decision": {"approve"}}), 404)
	wantPage(t, "bad filter", admin.get("/admin/approvals?show=maybe"), 400, "not one of the choices")
	if got, err := s.Client.GetToken(ctx, tok.Token.ID); err != nil || got.Approval == nil || got.Approval.State != api.ApprovalPending {
		t.Fatalf("after the refused decisions the token is %+v, %v; want it pending", got, err)
	}

	p = admin.post("/admin/approvals/"+tok.Token.ID, url.Values{"decision": {"approve"}, "reason": {"CI only"}})
	if p.status != 303 || p.header.Get("Location") != "/admin/approvals?notice=approved" {
		t.Fatalf("approve = %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	wantPage(t, "approved list", admin.get("/admin/approvals?show=approved"), 200, "deploys", "CI only")
	wantPage(t, "client page", admin.get("/admin/clients/"+reg.ClientID), 200, "Waiting for an administrator's approval")
	p = admin.post("/admin/approvals/"+reg.ClientID, url.Values{"decision": {"deny"}, "reason": {"unknown vendor"}})
	if p.status != 303 || p.header.Get("Location") != "/admin/approvals?notice=denied" {
		t.Fatalf("deny the client = %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if c, err := s.Client.GetClient(ctx, reg.ClientID); err != nil || c.Approval == nil || c.Approval.State != api.ApprovalDenied {
		t.Errorf("client after the denial = %+v, %v; want denied", c, err)
	}
	wantPage(t, "decide again", admin.post("/admin/approvals/"+tok.Token.ID, url.Values{"decision": {"deny"}, "reason": {"no"}}), 409, "decided already")
}
