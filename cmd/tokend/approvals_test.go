package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestApprovalsCommands: an API's approval policy set with tokend apis
// update holds a personal access token for approval; tokend approvals
// lists it, refuses a denial without a reason, and approves it.
func TestApprovalsCommands(t *testing.T) {
	url, admin, _, stop := startServe(t, t.TempDir())
	defer stop()
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "Pay", "--audience", "https://pay.example",
		"--key-prefix", "pay", "--scopes", "read,write"), &a)
	mustJSON(t, cli(t, url, admin, 0, "apis", "update", a.ID, "--json", "--pat-approval-scopes", "write",
		"--approve-dynamic-clients"), &a)
	if !a.Policy.ApproveDynamicClients || len(a.Policy.PATApprovalScopes) != 1 {
		t.Fatalf("apis update = policy %+v, want the approval settings", a.Policy)
	}
	if out := cli(t, url, admin, 0, "apis", "show", a.ID); !strings.Contains(out, "PAT approval scopes:") {
		t.Errorf("apis show prints %q, want the approval scopes", out)
	}
	cl, err := client.New(client.Config{URL: url, Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	p := a.Policy
	p.UserScopes = []api.UserScopes{{Everyone: true, Scopes: []string{"read", "write"}}}
	if _, err := cl.UpdateAPI(ctx, a.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	u, err := cl.CreateUser(ctx, api.CreateUserRequest{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(24 * time.Hour)
	pat, err := cl.CreateUserToken(ctx, u.ID, api.CreateTokenRequest{APIID: a.ID, Name: "deploy", Scopes: []string{"write"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	if out := cli(t, url, admin, 0, "approvals", "list"); !strings.Contains(out, pat.Token.ID) || !strings.Contains(out, "deploy") ||
		!strings.Contains(out, a.ID+":write") {
		t.Errorf("approvals list = %q, want the pending token with what it asks for", out)
	}
	cli(t, url, admin, exitUsage, "approvals", "deny", pat.Token.ID)
	cli(t, url, admin, 3, "approvals", "approve", "pat_06c8m0b1kq3fd2q3v1hq5e8r9c")
	var got api.Approval
	mustJSON(t, cli(t, url, admin, 0, "approvals", "approve", pat.Token.ID, "--reason", "deploys only", "--json"), &got)
	if got.State != api.ApprovalApproved || got.Reason != "deploys only" {
		t.Errorf("approvals approve = %+v", got)
	}
	cli(t, url, admin, 4, "approvals", "deny", pat.Token.ID, "--reason", "too late") // decided: 409
	if out := cli(t, url, admin, 0, "approvals", "list", "--state", "approved"); !strings.Contains(out, pat.Token.ID) {
		t.Errorf("approvals list --state approved = %q", out)
	}
	if r, err := cl.Verify(ctx, api.VerifyRequest{Token: pat.Secret}); err != nil || r.Code != api.CodeValid {
		t.Errorf("verify after approval = %+v, %v", r, err)
	}
}

// TestTokenStateApproval: pat list names a token waiting for approval and
// a denied one as such.
func TestTokenStateApproval(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		tok  api.Token
		want string
	}{
		{api.Token{Approval: &api.ApprovalState{State: api.ApprovalPending}}, "pending approval"},
		{api.Token{Approval: &api.ApprovalState{State: api.ApprovalApproved}}, "active"},
		{api.Token{Approval: &api.ApprovalState{State: api.ApprovalDenied}, RevokedAt: &now}, "denied"},
		{api.Token{RevokedAt: &now}, "revoked"},
	} {
		if got := tokenState(tt.tok, now); got != tt.want {
			t.Errorf("tokenState(%+v) = %q, want %q", tt.tok.Approval, got, tt.want)
		}
	}
}
