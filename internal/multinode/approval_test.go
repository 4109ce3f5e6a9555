package multinode

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
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

// pendingClient registers, on A, a client for an API whose policy holds
// dynamically registered clients for approval, and makes B refuse it a
// token (B then holds the pending client in its cache).
func (k *changeKinds) pendingClient(t *testing.T) step {
	t.Helper()
	c := k.p.a.Client(k.p.admin)
	if k.clientGateAPI == "" {
		a, err := c.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "held clients", Audience: "mn-held-" + Suffix(),
			KeyPrefix: "mnhc", Scopes: []string{"read"}, Policy: api.Policy{DynamicClientScopes: []string{"read"},
				ApproveDynamicClients: true}})
		if err != nil {
			t.Fatal(err)
		}
		k.clientGateAPI = a.ID
	}
	k.reps++
	oc := oauthClient{http: fromIP(t, k.reps)}
	body := `{"client_name":"held","grant_types":["client_credentials"],"tokend_api_scopes":{"` + k.clientGateAPI + `":["read"]}}`
	res, err := oc.http.Post(k.p.a.URL+"/oauth2/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	err = json.NewDecoder(res.Body).Decode(&reg)
	res.Body.Close()
	if res.StatusCode != 201 || err != nil {
		t.Fatalf("register on A: %d, %v", res.StatusCode, err)
	}
	oc.id, oc.secret = reg.ClientID, reg.ClientSecret
	gets := func(t *testing.T) (bool, string) {
		status, b, err := oc.postForm(t.Context(), k.p.b, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		return status == 200, fmt.Sprintf("%d %s", status, b)
	}
	if ok, got := gets(t); ok {
		t.Fatalf("B gave the pending client a token: %s", got)
	}
	return step{
		change: func() error {
			_, err := c.Approve(t.Context(), reg.ClientID, "")
			return err
		},
		reflected: gets,
	}
}
