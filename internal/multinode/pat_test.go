package multinode

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// patOwner creates a user in group "eng", whom the API's policy lets hold
// read in personal access tokens, and a token of theirs that B has
// cached as VALID.
func (k *changeKinds) patOwner(t *testing.T) (userID, tokenID, token string) {
	t.Helper()
	c := k.p.a.Client(k.p.admin)
	if !k.patPolicy {
		p := api.Policy{UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"read"}}},
			PATMaxTTL: api.Duration(24 * time.Hour)}
		if _, err := c.UpdateAPI(t.Context(), k.apiID, api.UpdateAPIRequest{Policy: &p}); err != nil {
			t.Fatal(err)
		}
		k.patPolicy = true
	}
	k.reps++
	u, err := c.CreateUser(t.Context(), api.CreateUserRequest{Username: fmt.Sprintf("pat-owner-%d", k.reps), Groups: []string{"eng"}})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(time.Hour)
	pat, err := c.CreateUserToken(t.Context(), u.ID, api.CreateTokenRequest{APIID: k.apiID, Name: "ci", Scopes: []string{"read"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	mustCode(t, k.p.b, k.p.admin, pat.Secret, api.CodeValid)
	return u.ID, pat.Token.ID, pat.Secret
}

// patChange returns the kind of change that do makes on A to a token's
// owner (or the token), after which B must answer want for it.
func (k *changeKinds) patChange(want api.Code, do func(t *testing.T, c *client.Client, userID, tokenID string) error) func(t *testing.T) step {
	return func(t *testing.T) step {
		userID, tokenID, token := k.patOwner(t)
		return step{
			change:    func() error { return do(t, k.p.a.Client(k.p.admin), userID, tokenID) },
			reflected: k.answers(token, want),
		}
	}
}

func revokePAT(t *testing.T, c *client.Client, _, tokenID string) error {
	_, err := c.RevokeToken(t.Context(), tokenID)
	return err
}

func dropGroups(t *testing.T, c *client.Client, userID, _ string) error {
	_, err := c.SetUserGroups(t.Context(), userID, []string{"sales"})
	return err
}

func disableOwner(t *testing.T, c *client.Client, userID, _ string) error {
	_, err := c.DisableUser(t.Context(), userID)
	return err
}

func deleteOwner(t *testing.T, c *client.Client, userID, _ string) error {
	return c.DeleteUser(t.Context(), userID)
}

// revokeOwnPAT revokes the token as its owner would, through /v1/me with
// a tokend:self token of theirs (made through the admin API here).
func (k *changeKinds) revokeOwnPAT(t *testing.T, c *client.Client, userID, tokenID string) error {
	ttl := api.Duration(time.Hour)
	self, err := c.CreateUserToken(t.Context(), userID, api.CreateTokenRequest{APIID: "api_tokend", Name: "laptop",
		Scopes: []string{"tokend:self"}, TTL: &ttl})
	if err != nil {
		return err
	}
	_, err = k.p.a.Client(self.Secret).RevokeMyToken(t.Context(), tokenID)
	return err
}
