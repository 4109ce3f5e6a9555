package webhook_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/webhook"
)

// TestApprovalEventsDelivered: a personal access token held for approval
// and an admin's decisions reach a subscribed HTTPS receiver as
// approval.requested, approval.approved and approval.denied, signed.
func TestApprovalEventsDelivered(t *testing.T) {
	rcv := newReceiver(t)
	s := servertest.Start(t, servertest.Options{Webhooks: webhook.Config{
		Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()})}})
	ctx := t.Context()
	types := []string{"approval.requested", "approval.approved", "approval.denied"}
	w, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: rcv.srv.URL + "/hook", Events: types})
	if err != nil {
		t.Fatal(err)
	}
	policy := api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read", "write"}}},
		PATApprovalScopes: []string{"write"}, PATMaxTTL: api.Duration(30 * 24 * time.Hour)}
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Orders", Audience: "orders", KeyPrefix: "ord",
		Scopes: []string{"read", "write"}, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(24 * time.Hour)
	var ids []string
	for _, name := range []string{"approved", "denied"} {
		pat, err := s.Client.CreateUserToken(ctx, u.User.ID, api.CreateTokenRequest{APIID: a.ID, Name: name, Scopes: []string{"write"}, TTL: &ttl})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pat.Token.ID)
	}
	if _, err := s.Client.Approve(ctx, ids[0], ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.Deny(ctx, ids[1], "no writes from CI"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Webhooks.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	type approvalEvent struct {
		Type string `json:"type"`
		Data struct {
			TargetID string `json:"target_id"`
			After    struct {
				Kind   string `json:"kind"`
				State  string `json:"state"`
				Reason string `json:"reason"`
				UserID string `json:"user_id"`
			} `json:"after"`
		} `json:"data"`
	}
	got := map[string][]approvalEvent{}
	for _, r := range rcv.requests() {
		checkSignature(t, w.Secret, r)
		var d approvalEvent
		if err := json.Unmarshal(r.body, &d); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		got[d.Type] = append(got[d.Type], d)
	}
	if ds := got["approval.requested"]; len(ds) != 2 || ds[0].Data.After.Kind != api.ApprovalKindToken || ds[0].Data.After.UserID != u.User.ID {
		t.Errorf("approval.requested deliveries = %+v; want two, for alice's tokens", ds)
	}
	if ds := got["approval.approved"]; len(ds) != 1 || ds[0].Data.TargetID != ids[0] || ds[0].Data.After.State != api.ApprovalApproved {
		t.Errorf("approval.approved deliveries = %+v; want one about %s", ds, ids[0])
	}
	if ds := got["approval.denied"]; len(ds) != 1 || ds[0].Data.TargetID != ids[1] || ds[0].Data.After.Reason != "no writes from CI" {
		t.Errorf("approval.denied deliveries = %+v; want one about %s with the reason", ds, ids[1])
	}
}
