package store

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// testWebhooks: an audit event queues one delivery per subscribed
// endpoint in its own transaction; concurrent claims never hand one
// delivery to two callers (SKIP LOCKED on PostgreSQL); outcomes land in
// the delivery log; deleting the endpoint drops its log.
func testWebhooks(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	w := Webhook{ID: "whk_a", URL: "https://example.com/a", Events: []string{"key.create", "token.leaked"},
		SecretSealed: []byte{1, 2, 3}, CreatedAt: at(0), UpdatedAt: at(0)}
	other := Webhook{ID: "whk_b", URL: "https://example.com/b", Events: []string{"key.rotate"}, SecretSealed: []byte{4}, CreatedAt: at(0), UpdatedAt: at(0)}
	for _, x := range []Webhook{w, other} {
		if err := db.CreateWebhook(ctx, x, Event{Time: at(0), Actor: "system", Action: "webhook.create", TargetType: "webhook", TargetID: x.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.WebhookByID(ctx, "whk_a"); err != nil || !slices.Equal(got.Events, w.Events) || string(got.SecretSealed) != "\x01\x02\x03" {
		t.Errorf("WebhookByID = %+v, %v", got, err)
	}
	const n = 20
	for i := range n {
		ev := Event{Time: at(time.Second), Actor: "key_x", Action: "key.create", TargetType: "key", TargetID: "key_" + string(rune('a'+i))}
		if err := db.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	db.AppendEvent(ctx, Event{Time: at(time.Second), Actor: "leak_report", Action: "key.revoke", TargetType: "key", TargetID: "key_z"})
	db.AppendEvent(ctx, Event{Time: at(time.Second), Actor: "key_x", Action: "key.revoke", TargetType: "key", TargetID: "key_y"})
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				ds, err := db.ClaimDeliveries(ctx, at(2*time.Second), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
					if d.Attempts != 1 || d.EndpointID != "whk_a" || !d.NextAt.Equal(at(2*time.Second+time.Minute)) {
						t.Errorf("claimed %+v", d)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n+1 {
		t.Errorf("claimed %d deliveries, want %d (20 key.create, 1 token.leaked)", len(seen), n+1)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("delivery %d claimed %d times", id, c)
		}
	}
	if ds, _ := db.ClaimDeliveries(ctx, at(time.Minute), time.Minute, 10); len(ds) != 0 {
		t.Errorf("claimed %d deliveries within their lease", len(ds))
	}
	log, err := db.ListDeliveries(ctx, "whk_a", 0, 100)
	if err != nil || len(log) != n+1 || log[0].EventType != "token.leaked" {
		t.Fatalf("ListDeliveries = %d entries (first %+v), %v", len(log), log[0], err)
	}
	d := log[0]
	d.State, d.ResponseCode, d.LastError = DeliveryFailed, 502, "the endpoint answered 502"
	if err := db.FinishAttempt(ctx, d, at(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	page, _ := db.ListDeliveries(ctx, "whk_a", log[1].ID+1, 1)
	if len(page) != 1 || page[0].ID != log[1].ID {
		t.Errorf("page before %d = %+v", log[1].ID+1, page)
	}
	if got, _ := db.ListDeliveries(ctx, "whk_a", 0, 1); got[0].State != DeliveryFailed || got[0].ResponseCode != 502 {
		t.Errorf("after FinishAttempt: %+v", got[0])
	}
	ev, err := db.EventByID(ctx, d.EventID)
	if err != nil || ev.Actor != "leak_report" || ev.TargetID != "key_z" {
		t.Errorf("EventByID = %+v, %v", ev, err)
	}
	if err := db.DeleteWebhook(ctx, "whk_a", Event{Time: at(4 * time.Second), Actor: "system", Action: "webhook.delete", TargetType: "webhook", TargetID: "whk_a"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListDeliveries(ctx, "whk_a", 0, 10); len(got) != 0 {
		t.Errorf("%d deliveries left after the endpoint went", len(got))
	}
	if err := db.DeleteWebhook(ctx, "whk_a", Event{Time: at(4 * time.Second), Actor: "system", Action: "webhook.delete"}); err == nil {
		t.Error("deleting a deleted endpoint succeeded")
	}
	if ws, _ := db.ListWebhooks(ctx, "", 10); len(ws) != 1 || ws[0].ID != "whk_b" {
		t.Errorf("ListWebhooks = %+v", ws)
	}
}
