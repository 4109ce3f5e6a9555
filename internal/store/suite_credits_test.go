package store

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testConsumeCredits(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	k := newKey("k1", "a", "alice")
	k.Credits = &Credits{Remaining: 3, RefillAmount: 10, RefillInterval: time.Hour, RefilledAt: t0}
	mustCreateKey(t, db, k)
	once := newKey("k2", "a", "alice")
	once.Credits = &Credits{Remaining: 1}
	mustCreateKey(t, db, once)
	mustCreateKey(t, db, newKey("unlimited", "a", "alice"))

	steps := []struct {
		key     string
		cost    int64
		now     time.Time
		wantRem int64
		wantOK  bool
	}{
		{"k1", 2, at(time.Minute), 1, true},
		{"k1", 2, at(2 * time.Minute), 1, false},
		{"k1", 0, at(3 * time.Minute), 1, true},
		{"k1", 1, at(time.Hour - 1), 0, true},
		{"k1", 4, at(150 * time.Minute), 6, true}, // refilled at t0+2h
		{"k1", 20, at(3 * time.Hour), 10, false},  // refilled at t0+3h, not taken
		{"k1", 10, at(3*time.Hour + 1), 0, true},  // no refill due
		{"k2", 1, at(1000 * time.Hour), 0, true},  // never refills
		{"k2", 1, at(2000 * time.Hour), 0, false},
	}
	for _, s := range steps {
		rem, ok, err := db.ConsumeCredits(ctx, s.key, s.cost, s.now)
		if err != nil || rem != s.wantRem || ok != s.wantOK {
			t.Errorf("ConsumeCredits(%s, %d, %v) = %d, %v, %v; want %d, %v",
				s.key, s.cost, s.now, rem, ok, err, s.wantRem, s.wantOK)
		}
	}
	want := &Credits{Remaining: 0, RefillAmount: 10, RefillInterval: time.Hour, RefilledAt: at(3 * time.Hour)}
	if diff := cmp.Diff(want, mustKey(t, db, "k1").Credits); diff != "" {
		t.Errorf("credits after consuming (-want +got):\n%s", diff)
	}
	for _, id := range []string{"unlimited", "nope"} {
		_, _, err := db.ConsumeCredits(ctx, id, 1, t0)
		checkErr(t, "ConsumeCredits("+id+")", err, ErrNotFound)
	}
	checkLog(t, db, "api.create a", "key.create k1", "key.create k2", "key.create unlimited")
}

func testConsumeCreditsConcurrent(t *testing.T, h harness) {
	db := h.open(t)
	mustCreateAPI(t, db, "a")
	k := newKey("k1", "a", "alice")
	k.Credits = &Credits{Remaining: 50}
	mustCreateKey(t, db, k)

	var granted, failed atomic.Int64
	runConcurrently(200, func(int) {
		_, ok, err := db.ConsumeCredits(t.Context(), "k1", 1, t0)
		switch {
		case err != nil:
			failed.Add(1)
			t.Errorf("ConsumeCredits: %v", err)
		case ok:
			granted.Add(1)
		}
	})
	if granted.Load() != 50 || failed.Load() != 0 {
		t.Errorf("granted %d of 200 requests (%d failed), want exactly 50", granted.Load(), failed.Load())
	}
	if got := mustKey(t, db, "k1").Credits.Remaining; got != 0 {
		t.Errorf("remaining = %d, want 0", got)
	}
}

func testRecordUsage(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	mustCreateKey(t, db, newKey("k1", "a", "alice"))
	mustCreateKey(t, db, newKey("k2", "a", "alice"))
	batches := [][]Usage{
		{{"k1", at(time.Minute), 3}, {"k2", at(2 * time.Minute), 1}, {"k1", at(30 * time.Second), 2}, {"gone", t0, 1}},
		{{"k1", at(10 * time.Second), 1}},
		nil,
	}
	for _, b := range batches {
		if err := db.RecordUsage(ctx, b); err != nil {
			t.Fatalf("RecordUsage: %v", err)
		}
	}
	for _, want := range []struct {
		id    string
		count int64
		last  time.Time
	}{{"k1", 6, at(time.Minute)}, {"k2", 1, at(2 * time.Minute)}} {
		k := mustKey(t, db, want.id)
		if k.UsageCount != want.count || !k.LastUsedAt.Equal(want.last) {
			t.Errorf("key %s: usage %d, last used %v; want %d, %v", want.id, k.UsageCount, k.LastUsedAt, want.count, want.last)
		}
	}
	checkLog(t, db, "api.create a", "key.create k1", "key.create k2")
}

func testBootstrap(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	if err := db.EnsureAPI(ctx, newAPI("system")); err != nil {
		t.Fatal(err)
	}
	bad := newKey("k0", "nope", "admin")
	_, err := db.Bootstrap(ctx, "admin-key", bad, newSecret("s0", t0), event("key.create", "k0"))
	checkErr(t, "Bootstrap for a missing API", err, ErrNotFound)

	for i, want := range []bool{true, false} {
		k := newKey(keyID(i), "system", "admin")
		created, err := db.Bootstrap(ctx, "admin-key", k, newSecret("s"+keyID(i), t0), event("key.create", k.ID))
		if err != nil || created != want {
			t.Errorf("Bootstrap #%d = %v, %v; want %v", i, created, err, want)
		}
	}
	mustKey(t, db, keyID(0))
	_, err = db.KeyByID(ctx, keyID(1))
	checkErr(t, "KeyByID of the second bootstrap key", err, ErrNotFound)
	checkLog(t, db, "key.create "+keyID(0))
}
