package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testEvents(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	var evs []Event
	for i, e := range []struct{ actor, action, typ, target string }{
		{"alice", "key.create", "key", "k1"},
		{"bob", "key.create", "key", "k2"},
		{"alice", "key.revoke", "key", "k1"},
		{"alice", "api.create", "api", "a1"},
		{"", "admin.login_failed", "", ""},
	} {
		ev := Event{Time: at(time.Duration(i) * time.Minute), Actor: e.actor, Action: e.action,
			TargetType: e.typ, TargetID: e.target, ClientIP: "198.51.100.7"}
		if i == 2 {
			ev.Before, ev.After = []byte(`{"revoked":false}`), []byte(`{"revoked":true}`)
		}
		if err := db.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	got, err := db.ListEvents(ctx, EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got { // IDs grow
		if i > 0 && got[i].ID >= got[i-1].ID {
			t.Errorf("event IDs not descending: %d then %d", got[i-1].ID, got[i].ID)
		}
	}
	want := []Event{evs[4], evs[3], evs[2], evs[1], evs[0]}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Event{}, "ID")); diff != "" {
		t.Errorf("ListEvents (-want +got):\n%s", diff)
	}
	checkEventFilters(t, db, got)
	if err := db.AppendEvent(ctx, Event{Time: t0, Action: "x", After: []byte("{")}); err == nil {
		t.Error("AppendEvent accepted invalid JSON")
	}
	if err := db.AppendEvent(ctx, Event{Action: "x"}); err == nil {
		t.Error("AppendEvent accepted an event without a time")
	}
}

// checkEventFilters lists with each filter; all holds every event, newest
// first.
func checkEventFilters(t *testing.T, db *DB, all []Event) {
	t.Helper()
	ids := func(f EventFilter) []int64 {
		t.Helper()
		var out []int64
		for {
			page, err := db.ListEvents(t.Context(), f)
			if err != nil {
				t.Fatalf("ListEvents(%+v): %v", f, err)
			}
			for _, ev := range page {
				out = append(out, ev.ID)
			}
			if len(page) < f.Limit {
				return out
			}
			f.Before = page[len(page)-1].ID
		}
	}
	id := func(i int) int64 { return all[len(all)-1-i].ID } // i-th appended
	tests := []struct {
		f    EventFilter
		want []int64
	}{
		{EventFilter{Limit: 2}, []int64{id(4), id(3), id(2), id(1), id(0)}},
		{EventFilter{Actor: "alice", Limit: 1}, []int64{id(3), id(2), id(0)}},
		{EventFilter{Action: "key.create", Limit: 100}, []int64{id(1), id(0)}},
		{EventFilter{TargetType: "key", TargetID: "k1", Limit: 100}, []int64{id(2), id(0)}},
		{EventFilter{Actor: "alice", Action: "api.create", Limit: 100}, []int64{id(3)}},
		{EventFilter{Since: at(time.Minute), Until: at(3 * time.Minute), Limit: 100}, []int64{id(2), id(1)}},
		{EventFilter{Before: id(1), Limit: 100}, []int64{id(0)}},
		{EventFilter{Actor: "nobody", Limit: 100}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ids(tt.f)); diff != "" {
			t.Errorf("ListEvents(%+v) IDs (-want +got):\n%s", tt.f, diff)
		}
	}
}

// testEventRetention deletes the events older than a cutoff in batches,
// oldest first, and keeps the newer ones.
func testEventRetention(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	for i := range 5 {
		if err := db.AppendEvent(ctx, Event{Time: at(time.Duration(i) * time.Hour), Actor: "a", Action: "key.create",
			TargetType: "key", TargetID: fmt.Sprint("k", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int64{2, 1, 0} {
		n, err := db.DeleteEventsBefore(ctx, at(3*time.Hour), 2)
		if err != nil || n != want {
			t.Errorf("DeleteEventsBefore call %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	evs, err := db.ListEvents(ctx, EventFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.TargetID)
	}
	if diff := cmp.Diff([]string{"k4", "k3"}, ids); diff != "" {
		t.Errorf("events left (-want +got):\n%s", diff)
	}
}

// testReopen opens one database from two places at once, then again:
// migrations apply once and data persists.
func testReopen(t *testing.T, h harness) {
	dsn := h.newDSN(t)
	dbs := make([]*DB, 2)
	runConcurrently(len(dbs), func(i int) {
		db, err := Open(t.Context(), dsn, Options{})
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
			return
		}
		dbs[i] = db
	})
	if t.Failed() {
		t.FailNow()
	}
	mustCreateAPI(t, dbs[0], "a")
	if _, err := dbs[1].APIByID(t.Context(), "a"); err != nil {
		t.Errorf("APIByID on the other handle: %v", err)
	}
	for _, db := range dbs {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := openDSN(t, dsn)
	if _, err := db.APIByID(t.Context(), "a"); err != nil {
		t.Errorf("APIByID after reopening: %v", err)
	}
	ms, err := migrations(db.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
