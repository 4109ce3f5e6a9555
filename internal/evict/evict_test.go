package evict

import (
	"fmt"
	"testing"
)

// TestMakeRoom fills tables of several sizes with live and expired
// entries in varying shares and requires that MakeRoom frees at least a
// sixteenth (at least one entry), keeps no expired entry, drops no live
// one while an expired one is left, and keeps live entries unchanged.
func TestMakeRoom(t *testing.T) {
	for _, limit := range []int{1, 2, 15, 16, 17, 64, 1000} {
		for _, expiredShare := range []int{0, 1, limit / 32, limit / 16, limit / 2, limit} {
			t.Run(fmt.Sprintf("limit=%d/expired=%d", limit, expiredShare), func(t *testing.T) {
				m := make(map[int]int, limit)
				for i := range limit {
					m[i] = i // values below expiredShare are expired
				}
				expired := func(v int) bool { return v < expiredShare }
				got := MakeRoom(m, limit, expired)
				want := limit - max(limit/16, 1)
				live := limit - min(expiredShare, limit)
				if len(got) != min(want, live) {
					t.Errorf("MakeRoom kept %d of %d (%d live), want %d", len(got), limit, live, min(want, live))
				}
				for k, v := range got {
					if expired(v) {
						t.Errorf("MakeRoom kept expired entry %d", k)
					}
					if m[k] != v {
						t.Errorf("MakeRoom kept %d: %d, want %d", k, v, m[k])
					}
				}
				if len(m) != limit {
					t.Errorf("MakeRoom changed its argument: %d entries, want %d", len(m), limit)
				}
			})
		}
	}
}

// TestMakeRoomBoundsAFlood adds ever new keys to a table that makes room
// whenever it is full, as the callers do: it never holds more than its
// limit, and entries that expired go before live ones.
func TestMakeRoomBoundsAFlood(t *testing.T) {
	const limit = 64
	m := map[string]bool{} // true: live
	for i := range limit / 2 {
		m[fmt.Sprint("live", i)] = true
	}
	for i := range 20 * limit {
		if len(m) >= limit {
			m = MakeRoom(m, limit, func(live bool) bool { return !live })
		}
		m[fmt.Sprint("new", i)] = false
		if len(m) > limit {
			t.Fatalf("after %d new keys the table holds %d, want at most %d", i+1, len(m), limit)
		}
		for j := range limit / 2 {
			if !m[fmt.Sprint("live", j)] {
				t.Fatalf("after %d new keys live%d was dropped while expired entries were left", i+1, j)
			}
		}
	}
}
