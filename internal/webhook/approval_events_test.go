package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/store"
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

// TestDocumentClientApprovalRequestedOnce: a client ID metadata document
// client that needed no approval is held pending once its document
// reaches an API that holds new clients (policy.approve_dynamic_clients);
// that reaches a subscribed receiver as one approval.requested, and the
// document fetched again, changed or not, asks no more.
func TestDocumentClientApprovalRequestedOnce(t *testing.T) {
	rcv := newReceiver(t)
	var mu sync.Mutex
	doc := map[string]any{}
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store") // fetched again at every use
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(docs.Close)
	id := docs.URL + "/clients/app.json"
	publish := func(name, scope string) {
		mu.Lock()
		defer mu.Unlock()
		doc = map[string]any{"client_id": id, "client_name": name, "redirect_uris": []string{"http://127.0.0.1/callback"},
			"token_endpoint_auth_method": "none", "scope": scope}
	}
	s := servertest.Start(t, servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true}),
		Webhooks: webhook.Config{Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()})}})
	ctx := t.Context()
	w, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: rcv.srv.URL + "/hook", Events: []string{"approval.requested"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []api.CreateAPIRequest{
		{Name: "Shipping", Audience: "shipping", KeyPrefix: "ship", Scopes: []string{"ship"},
			Policy: api.Policy{DynamicClientScopes: []string{"ship"}}},
		{Name: "Orders", Audience: "orders", KeyPrefix: "ord", Scopes: []string{"read"},
			Policy: api.Policy{DynamicClientScopes: []string{"read"}, ApproveDynamicClients: true}},
	} {
		if _, err := s.Client.CreateAPI(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// use makes tokend read the document: an authorization request
	// naming it, which the browser endpoint answers whatever it decides.
	use := func(scope string) {
		t.Helper()
		q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"},
			"scope": {scope}, "state": {"st"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
			"code_challenge_method": {"S256"}}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(s.URL + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	state := func() string {
		t.Helper()
		c, err := s.DB.ClientByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Approval.State
	}
	publish("Doc app", "ship")
	use("ship")
	if st := state(); st != "" {
		t.Fatalf("client for shipping only: approval %q, want none", st)
	}
	publish("Doc app", "ship read") // now reaches Orders, which holds new clients
	use("ship")
	if st := state(); st != store.ApprovalPending {
		t.Fatalf("client widened to orders: approval %q, want pending", st)
	}
	use("ship")                        // the same document again
	publish("Doc app v2", "ship read") // a change that keeps it pending
	use("ship")
	if _, err := s.Webhooks.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	type requested struct {
		Type string `json:"type"`
		Data struct {
			TargetID string `json:"target_id"`
			After    struct {
				Kind  string `json:"kind"`
				State string `json:"state"`
				Name  string `json:"name"`
			} `json:"after"`
		} `json:"data"`
	}
	var got []requested
	for _, r := range rcv.requests() {
		checkSignature(t, w.Secret, r)
		var d requested
		if err := json.Unmarshal(r.body, &d); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		got = append(got, d)
	}
	if len(got) != 1 || got[0].Type != "approval.requested" || got[0].Data.TargetID != id ||
		got[0].Data.After.Kind != api.ApprovalKindClient || got[0].Data.After.State != api.ApprovalPending {
		t.Errorf("deliveries = %+v; want one approval.requested about the client %s", got, id)
	}
}
