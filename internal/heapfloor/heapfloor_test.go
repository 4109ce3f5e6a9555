package heapfloor_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/heapfloor"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		base, want  int
	}{
		{10 * mib, 64 * mib, 100, 540},  // goal 64 MiB
		{32 * mib, 64 * mib, 100, 100},  // the default goal is the floor already
		{48 * mib, 64 * mib, 100, 100},  // the default goal is above it
		{64 * mib, 64 * mib, 100, 100},  // at the floor
		{100 * mib, 64 * mib, 100, 100}, // over it: Go's default
		{10 * mib, 64 * mib, 800, 800},  // never under the base
		{0, 64 * mib, 100, 100},         // no collection yet
		{1, 64 * mib, 100, 100_000},     // capped
		{16 * mib, 64 * mib, 50, 300},   // goal 64 MiB from any base
		{63 * mib, 64 * mib, 100, 100},  // 1 % over: the base wins
		{20 * mib, 20*mib + 1, 0, 0},    // rounding down stays at the base
	} {
		if got := heapfloor.Percent(c.live, c.floor, c.base); got != c.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", c.live, c.floor, c.base, got, c.want)
		}
	}
}

// gogc is the collector's current GC percent.
func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestRunRaisesAndRestores runs the real adjustment on this process: with a
// floor far above the test's live heap the GC percent rises, and when Run
// ends it is the base again.
func TestRunRaisesAndRestores(t *testing.T) {
	runtime.GC() // a live heap to go by
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { heapfloor.Run(ctx, 1<<30, 100, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for gogc() <= 100 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("GC percent still %d with a 1 GiB floor", gogc())
		}
		time.Sleep(5 * time.Millisecond)
	}
	raised := gogc()
	cancel()
	<-done
	if got := gogc(); got != 100 {
		t.Errorf("GC percent %d after Run ended, want the base 100 (raised to %d)", got, raised)
	}
	t.Logf("raised to %d for a live heap of this test", raised)
}
