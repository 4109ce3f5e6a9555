package store

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// testClaimExpiringPATs: the expiry notice of a personal access token is
// claimed once per expiry, by exactly one of several nodes claiming at
// once; revoked, expired, unexpiring and far-off tokens and API keys are
// left alone; the claim and its audit event (and so its webhook
// deliveries) commit together.
func testClaimExpiringPATs(t *testing.T, h harness) {
	dsn := h.newDSN(t)
	dbs := []*DB{openDSN(t, dsn), openDSN(t, dsn)}
	db, ctx := dbs[0], t.Context()
	mustCreateAPI(t, db, "a")
	mustCreateUser(t, db, newUser("u1", "alice"))
	w := Webhook{ID: "whk_a", URL: "https://example.com/a", Events: []string{"pat.expiring"}, SecretSealed: []byte{1}, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateWebhook(ctx, w, event("webhook.create", w.ID)); err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	pat := func(id string, expires time.Duration, edit func(*Key)) {
		k := newPAT(id, "a", "u1")
		if expires != 0 {
			k.ExpiresAt = at(expires)
		}
		if edit != nil {
			edit(&k)
		}
		mustCreateKey(t, db, k)
	}
	pat("soon", 3*day, nil)
	pat("later", 10*day, nil)
	pat("never", 0, nil)
	pat("gone", -time.Hour, nil)
	pat("revoked", 2*day, func(k *Key) { k.RevokedAt = t0 })
	apiKey := newKey("apikey", "a", "svc")
	apiKey.ExpiresAt = at(day)
	mustCreateKey(t, db, apiKey)

	notice := func(k Key) (Event, error) {
		return Event{Time: t0, Actor: "system", Action: "pat.expiring", TargetType: "pat", TargetID: k.ID}, nil
	}
	var mu sync.Mutex
	var claimed []string
	runConcurrently(8, func(i int) {
		ks, err := dbs[i%2].ClaimExpiringPATs(ctx, t0, at(7*day), 10, notice)
		if err != nil {
			t.Errorf("ClaimExpiringPATs: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, k := range ks {
			claimed = append(claimed, k.ID)
		}
	})
	if !slices.Equal(claimed, []string{"soon"}) {
		t.Errorf("8 concurrent claims took %v; want [soon] once", claimed)
	}
	evs, err := db.ListEvents(ctx, EventFilter{Action: "pat.expiring", Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].TargetID != "soon" {
		t.Errorf("pat.expiring events = %+v, %v; want one about soon", evs, err)
	}
	if ds, err := db.ListDeliveries(ctx, "whk_a", 0, 10); err != nil || len(ds) != 1 || ds[0].EventType != "pat.expiring" {
		t.Errorf("deliveries = %+v, %v; want one pat.expiring", ds, err)
	}
	ks, err := db.ClaimExpiringPATs(ctx, at(4*day), at(11*day), 10, notice)
	if err != nil || len(ks) != 1 || ks[0].ID != "later" {
		t.Errorf("four days on: claimed %+v, %v; want later alone", ks, err)
	}
	if ks, err := db.ClaimExpiringPATs(ctx, at(4*day), at(11*day), 10, notice); err != nil || len(ks) != 0 {
		t.Errorf("claimed again: %+v, %v", ks, err)
	}
}
