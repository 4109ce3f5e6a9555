package audit

import (
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// TestRetentionDeletesOnlyEventsPastKeep fills a real SQLite audit log
// with events of different ages: a sweep deletes those older than Keep,
// in several batches, and keeps the rest; Keep 0 keeps everything (L9).
func TestRetentionDeletesOnlyEventsPastKeep(t *testing.T) {
	db, err := store.Open(t.Context(), t.TempDir()+"/tokend.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for age := range 10 {
		ev, err := Change(System, now.Add(-time.Duration(age)*24*time.Hour), "api.create", "api", "api_x", nil, map[string]int{"age": age})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AppendEvent(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	clock := func() time.Time { return now }
	if n, err := NewRetention(RetentionConfig{DB: db, Now: clock}).Sweep(t.Context()); n != 0 || err != nil {
		t.Errorf("Keep 0 swept %d, %v; want nothing", n, err)
	}
	r := NewRetention(RetentionConfig{DB: db, Keep: 5*24*time.Hour - time.Minute, Batch: 2, Now: clock})
	if n, err := r.Sweep(t.Context()); n != 5 || err != nil {
		t.Errorf("Sweep = %d, %v; want the 5 events 5 to 9 days old", n, err)
	}
	evs, err := db.ListEvents(t.Context(), store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 || evs[len(evs)-1].Time.Before(now.Add(-4*24*time.Hour)) {
		t.Errorf("%d events left, the oldest at %v; want 5, none older than 4 days", len(evs), evs[len(evs)-1].Time)
	}
}
