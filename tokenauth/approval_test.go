package tokenauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/tokenauth"
)

// TestPendingTokenRefused: a personal access token awaiting an
// administrator's approval is refused with 401 invalid_token that says
// so, like any other token that cannot be used; once approved it passes.
func TestPendingTokenRefused(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.CacheTTL = -1 })
	ctx := t.Context()
	p := api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"invoices:read"}}},
		PATApprovalScopes: []string{"invoices:read"}}
	if _, err := e.Client.UpdateAPI(ctx, e.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	u, err := e.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Password: "tokenauth approval test 7319"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(24 * time.Hour)
	c, err := e.Client.CreateUserToken(ctx, u.ID, api.CreateTokenRequest{APIID: e.api.ID, Name: "ci",
		Scopes: []string{"invoices:read"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	a := e.do(t, "GET", "/invoices", bearer(c.Secret))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `error_description="the token awaits an administrator's approval"`) {
		t.Fatalf("pending token: %d %v, want 401 naming the approval", a.status, a.header)
	}
	if _, err := e.Client.Approve(ctx, c.Token.ID, ""); err != nil {
		t.Fatal(err)
	}
	if a := e.do(t, "GET", "/invoices", bearer(c.Secret)); a.status != 200 {
		t.Fatalf("approved token: %d %s", a.status, a.body)
	}
}
