package verify

import (
	"maps"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// TestUsageBookkeeping: uses of a personal access token are counted per
// minute, address and code however they interleave, only VALID answers
// count as the key's uses, and a batch restored after a failed write is
// taken again whole.
func TestUsageBookkeeping(t *testing.T) {
	u := newUsage()
	t0 := time.Date(2026, 11, 30, 9, 0, 10, 0, time.UTC)
	valid, scope := api.CodeValid, api.CodeInsufficientScope
	u.record("pat_1", true, true, t0, "10.0.0.1", valid)
	u.record("pat_1", true, true, t0.Add(time.Second), "10.0.0.1", valid)
	u.record("pat_1", false, true, t0.Add(2*time.Second), "10.0.0.1", scope)
	u.record("pat_1", true, true, t0.Add(3*time.Second), "10.0.0.1", valid)
	u.record("pat_1", true, true, t0.Add(time.Minute), "10.0.0.2", valid)
	u.record("key_1", true, false, t0, "", valid)
	u.record("pat_2", false, true, t0, "10.0.0.3", api.CodeDisabled)

	check := func(batch []store.Usage, uses []store.KeyUse) {
		t.Helper()
		if len(batch) != 2 || batch[0].KeyID != "key_1" || batch[0].Count != 1 ||
			batch[1].KeyID != "pat_1" || batch[1].Count != 4 || !batch[1].LastUsed.Equal(t0.Add(time.Minute)) {
			t.Errorf("usage = %+v", batch)
		}
		got := map[string]int64{}
		for _, x := range uses {
			got[x.KeyID+" "+x.Minute.Format("15:04")+" "+x.IP+" "+x.Code] += x.Count
		}
		want := map[string]int64{
			"pat_1 09:00 10.0.0.1 VALID": 3, "pat_1 09:00 10.0.0.1 INSUFFICIENT_SCOPE": 1,
			"pat_1 09:01 10.0.0.2 VALID": 1, "pat_2 09:00 10.0.0.3 DISABLED": 1,
		}
		if !maps.Equal(got, want) || len(uses) != len(want) {
			t.Errorf("uses = %v, want %v", got, want)
		}
	}
	batch, uses := u.take()
	check(batch, uses)
	u.restore(batch, uses)
	check(u.take())
	if batch, uses := u.take(); len(batch) != 0 || len(uses) != 0 {
		t.Errorf("second take = %+v, %+v; want nothing", batch, uses)
	}
}
