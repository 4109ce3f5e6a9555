package webhook_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/webhook"
)

// delivered is the body of one delivery, as a receiver reads it.
type delivered struct {
	Type string `json:"type"`
	Data struct {
		Actor    string `json:"actor"`
		TargetID string `json:"target_id"`
		After    struct {
			UserID    string    `json:"user_id"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"after"`
	} `json:"data"`
}

// TestIssueEventsDelivered drives every event the webhooks issue lists
// but the approval ones (key created, rotated, revoked; leaked-token
// reported; PAT expiring; signing key rotated, by an admin and on
// schedule) through a real server into a real HTTPS receiver, and checks
// each delivery's signatures, both schemes.
func TestIssueEventsDelivered(t *testing.T) {
	rcv := newReceiver(t)
	s := servertest.Start(t, servertest.Options{Webhooks: webhook.Config{
		Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()})}})
	ctx := t.Context()
	types := []string{"key.create", "key.rotate", "key.revoke", "token.leaked", "pat.expiring", "signing_key.rotate"}
	w, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: rcv.srv.URL + "/hook", Events: types})
	if err != nil {
		t.Fatal(err)
	}
	policy := api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}, PATMaxTTL: api.Duration(30 * 24 * time.Hour)}
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Orders", Audience: "orders", KeyPrefix: "ord", Scopes: []string{"read"}, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.RotateKey(ctx, k.Key.ID, api.RotateKeyRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.RevokeKey(ctx, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "leaky"})
	if err != nil {
		t.Fatal(err)
	}
	reportLeak(t, s.URL, leaked.Secret)

	u, err := s.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(10 * 24 * time.Hour)
	pat, err := s.Client.CreateUserToken(ctx, u.User.ID, api.CreateTokenRequest{APIID: a.ID, Name: "ci", Scopes: []string{"read"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Keys.NoticeExpiringPATs(ctx); n != 0 || err != nil {
		t.Fatalf("ten days before expiry: NoticeExpiringPATs = %d, %v; want 0", n, err)
	}
	s.Clock.Advance(3*24*time.Hour + time.Second)
	for i, want := range []int{1, 0} { // the second sweep, on this or any node, finds it noticed
		if n, err := s.Keys.NoticeExpiringPATs(ctx); n != want || err != nil {
			t.Fatalf("sweep %d within 7 days: NoticeExpiringPATs = %d, %v; want %d", i, n, err, want)
		}
	}

	if _, err := s.Client.RotateSigningKey(ctx); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(31 * 24 * time.Hour) // past --signing-key-rotate-every's default 30 days
	if err := s.Signer.Maintain(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Webhooks.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string][]delivered{}
	for _, r := range rcv.requests() {
		checkSignature(t, w.Secret, r)
		checkRFC9421(t, w.Secret, w.Webhook.ID, rcv.srv.URL+"/hook", time.Now, r)
		var d delivered
		if err := json.Unmarshal(r.body, &d); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		got[d.Type] = append(got[d.Type], d)
	}
	for _, typ := range types {
		if len(got[typ]) == 0 {
			t.Errorf("no %s delivered; got %v", typ, slices.Sorted(maps.Keys(got)))
		}
	}
	if ds := got["pat.expiring"]; len(ds) != 1 || ds[0].Data.TargetID != pat.Token.ID || ds[0].Data.Actor != "system" ||
		ds[0].Data.After.UserID != u.User.ID || !ds[0].Data.After.ExpiresAt.Equal(*pat.Token.ExpiresAt) {
		t.Errorf("pat.expiring deliveries = %+v; want one, from system, about %s of %s", ds, pat.Token.ID, u.User.ID)
	}
	if ds := got["token.leaked"]; len(ds) != 1 || ds[0].Data.TargetID != leaked.Key.ID {
		t.Errorf("token.leaked deliveries = %+v; want one about %s", ds, leaked.Key.ID)
	}
	var byAdmin, bySchedule bool
	for _, d := range got["signing_key.rotate"] {
		byAdmin = byAdmin || strings.HasPrefix(d.Data.Actor, "key_")
		bySchedule = bySchedule || d.Data.Actor == "system"
	}
	if !byAdmin || !bySchedule {
		t.Errorf("signing_key.rotate deliveries = %+v; want one by the admin and one on schedule (system)", got["signing_key.rotate"])
	}
}

func reportLeak(t *testing.T, base, token string) {
	t.Helper()
	res, err := http.Post(base+"/v1/leaked-tokens", "application/json",
		strings.NewReader(`{"token":"`+token+`","url":"https://gist.example.com/x"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("POST /v1/leaked-tokens = %d", res.StatusCode)
	}
}
