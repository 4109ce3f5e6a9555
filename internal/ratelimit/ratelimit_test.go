package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestBurstThenRefuse(t *testing.T) {
	m := NewMemory()
	lim := []Limit{{Name: "min", Limit: 10, Window: time.Minute}}
	for i := range 10 {
		st, ok := m.take("k", lim, t0, nil)
		if !ok {
			t.Fatalf("request %d refused", i+1)
		}
		if want := int64(9 - i); st[0].Remaining != want {
			t.Errorf("request %d: remaining = %d, want %d", i+1, st[0].Remaining, want)
		}
	}
	st, ok := m.take("k", lim, t0, nil)
	if ok || st[0].Remaining != 0 || st[0].RetryAfter != 6*time.Second {
		t.Errorf("11th = %+v, %v; want refused with RetryAfter 6s", st[0], ok)
	}
	if !st[0].Reset.Equal(t0.Add(time.Minute)) {
		t.Errorf("reset = %v, want %v", st[0].Reset, t0.Add(time.Minute))
	}
	// One emission interval later exactly one more request is admitted.
	if _, ok := m.take("k", lim, t0.Add(6*time.Second), nil); !ok {
		t.Error("refused after one interval")
	}
	if _, ok := m.take("k", lim, t0.Add(6*time.Second), nil); ok {
		t.Error("admitted twice after one interval")
	}
}

func TestAllOrNothing(t *testing.T) {
	m := NewMemory()
	lims := []Limit{{Name: "sec", Limit: 100, Window: time.Second}, {Name: "day", Limit: 2, Window: 24 * time.Hour}}
	for range 2 {
		if _, ok := m.take("k", lims, t0, nil); !ok {
			t.Fatal("refused within both limits")
		}
	}
	st, ok := m.take("k", lims, t0, nil)
	if ok {
		t.Fatal("admitted past the daily limit")
	}
	// The refusal by "day" must not have consumed "sec": 98 are left.
	st, _ = m.take("k", lims[:1], t0, st[:0])
	if st[0].Remaining != 97 {
		t.Errorf("sec remaining = %d after a refused request, want 97", st[0].Remaining)
	}
}

func TestOwnersIndependent(t *testing.T) {
	m := NewMemory()
	lim := []Limit{{Name: "x", Limit: 1, Window: time.Hour}}
	if _, ok := m.take("a", lim, t0, nil); !ok {
		t.Fatal("a refused")
	}
	if _, ok := m.take("b", lim, t0, nil); !ok {
		t.Error("b refused because of a")
	}
}

func TestConcurrentExact(t *testing.T) {
	m := NewMemory()
	lim := []Limit{{Name: "x", Limit: 100, Window: time.Minute}}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 300 {
		wg.Go(func() {
			if _, ok := m.take("k", lim, t0, nil); ok {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Errorf("admitted %d of 300, want 100", admitted.Load())
	}
}

func TestSweep(t *testing.T) {
	m := NewMemory()
	lim := []Limit{{Name: "x", Limit: 10, Window: time.Second}}
	m.take("k", lim, t0, nil)
	if n := m.Sweep(t0); n != 0 {
		t.Errorf("Sweep before drain removed %d", n)
	}
	if n := m.Sweep(t0.Add(time.Second)); n != 1 || m.Len() != 0 {
		t.Errorf("Sweep after drain removed %d, len %d", n, m.Len())
	}
}

// TestBoundedMemory fills a bounded Memory with owners that each spent
// their whole limit, then with owners whose state drained: it never
// holds more than its bound, a new owner drops drained states before
// live ones, and an owner over its limit stays refused while its state
// is kept.
func TestBoundedMemory(t *testing.T) {
	const bound = 64
	m := NewBoundedMemory(bound)
	lim := []Limit{{Name: "x", Limit: 1, Window: time.Minute}}
	for i := range bound / 2 {
		m.take(fmt.Sprint("live", i), lim, t0, nil) // drains at t0+1m
	}
	for i := range bound / 2 {
		m.take(fmt.Sprint("old", i), lim, t0.Add(-time.Hour), nil) // drained by t0
	}
	for i := range 10 * bound {
		m.take(fmt.Sprint("new", i), lim, t0, nil)
		if n := m.Len(); n > bound {
			t.Fatalf("after %d new owners Len() = %d, want at most %d", i+1, n, bound)
		}
		if i == bound/4 {
			for j := range bound / 2 {
				if _, ok := m.take(fmt.Sprint("live", j), lim, t0, nil); ok {
					t.Fatalf("live%d admitted again within its window: its state was dropped before a drained one", j)
				}
			}
		}
	}
}

func BenchmarkTake(b *testing.B) {
	m := NewMemory()
	lims := []Limit{{Name: "a", Limit: 1 << 40, Window: time.Second}, {Name: "b", Limit: 1 << 40, Window: time.Hour}}
	out := make([]State, 0, 2)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = m.take("key_x", lims, t0, out[:0])
	}
}
