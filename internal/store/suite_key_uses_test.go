package store

import (
	"fmt"
	"testing"
	"time"
)

// testKeyUses: recent uses add up per minute, address and code, stay
// bounded per key and by age, and the last valid use of each key is
// found in one query.
func testKeyUses(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	min := func(n int) time.Time { return t0.Truncate(time.Minute).Add(time.Duration(n) * time.Minute) }
	batch := []KeyUse{{"k1", min(0), "192.0.2.1", "VALID", 2}, {"k1", min(1), "192.0.2.2", "VALID", 1},
		{"k1", min(1), "192.0.2.2", "REVOKED", 1}, {"k2", min(0), "192.0.2.3", "EXPIRED", 1}}
	for range 2 {
		if err := db.RecordKeyUses(ctx, batch, min(2)); err != nil {
			t.Fatalf("RecordKeyUses: %v", err)
		}
	}
	us, err := db.KeyUses(ctx, "k1", 10)
	if err != nil || len(us) != 3 || us[0].Minute != min(1) || us[2].Count != 4 || us[2].IP != "192.0.2.1" {
		t.Fatalf("KeyUses(k1) = %+v, %v", us, err)
	}
	last, err := db.LastKeyUses(ctx, []string{"k1", "k2", "k3"}, "VALID")
	if err != nil || len(last) != 1 || last["k1"].IP != "192.0.2.2" || last["k1"].Minute != min(1) {
		t.Errorf("LastKeyUses = %+v, %v", last, err)
	}
	var many []KeyUse
	for i := range KeepUses + 20 {
		many = append(many, KeyUse{"k3", min(i), fmt.Sprint("ip", i), "VALID", 1})
	}
	if err := db.RecordKeyUses(ctx, many, min(KeepUses+20)); err != nil {
		t.Fatal(err)
	}
	if us, err := db.KeyUses(ctx, "k3", 1000); err != nil || len(us) != KeepUses || us[len(us)-1].Minute != min(20) {
		t.Errorf("k3 kept %d uses (oldest %v), want %d from %v: %v", len(us), us[len(us)-1].Minute, KeepUses, min(20), err)
	}
	later := min(0).Add(KeyUseRetention + time.Hour)
	if err := db.RecordKeyUses(ctx, []KeyUse{{"k4", later, "x", "VALID", 1}}, later); err != nil {
		t.Fatal(err)
	}
	if us, err := db.KeyUses(ctx, "k2", 10); err != nil || len(us) != 0 {
		t.Errorf("k2's uses past the retention = %+v, %v", us, err)
	}
}
