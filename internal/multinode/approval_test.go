package multinode

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// pendingPAT creates, on an API whose policy holds tokens with scope
// read for approval, a pending personal access token that B has cached
// as PENDING_APPROVAL.
func (k *changeKinds) pendingPAT(t *testing.T) (tokenID, token string) {
	t.Helper()
	c := k.p.a.Client(k.p.admin)
	if k.approvalAPI == "" {
		a, err := c.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "approvals", Audience: "mn-approvals-" + Suffix(),
			KeyPrefix: "mnap", Scopes: []string{"read"}, Policy: api.Policy{
				UserScopes:        []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}},
				PATApprovalScopes: []string{"read"}, PATMaxTTL: api.Duration(24 * time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		k.approvalAPI = a.ID
	}
	k.reps++
	u, err := c.CreateUser(t.Context(), api.CreateUserRequest{Username: fmt.Sprintf("approval-%d", k.reps)})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(time.Hour)
	pat, err := c.CreateUserToken(t.Context(), u.ID, api.CreateTokenRequest{APIID: k.approvalAPI, Name: "ci", Scopes: []string{"read"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	mustCode(t, k.p.b, k.p.admin, pat.Secret, api.CodePendingApproval)
	return pat.Token.ID, pat.Secret
}

// decision returns the kind of change that decide makes on A to a
// pending token, after which B must answer want for it.
func (k *changeKinds) decision(want api.Code, decide func(t *testing.T, c *client.Client, tokenID string) error) func(t *testing.T) step {
	return func(t *testing.T) step {
		tokenID, token := k.pendingPAT(t)
		return step{
			change:    func() error { return decide(t, k.p.a.Client(k.p.admin), tokenID) },
			reflected: k.answers(token, want),
		}
	}
}

func approvePAT(t *testing.T, c *client.Client, tokenID string) error {
	_, err := c.Approve(t.Context(), tokenID, "")
	return err
}

func denyPAT(t *testing.T, c *client.Client, tokenID string) error {
	_, err := c.Deny(t.Context(), tokenID, "not for CI")
	return err
}
