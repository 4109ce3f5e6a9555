// Package heapfloor keeps the Go collector's heap goal at or above a
// floor. Go starts a collection when the heap has grown by GOGC percent
// (100) over what the last one left live, and never before 4 MiB. tokend's
// live heap is small (about 10 MiB with a warm cache), so under load it
// collected some thirty times a second, about a tenth of its CPU on the
// token endpoint. Run raises the GC percent while the live heap is under
// the floor, so that the next collection waits until the heap reaches the
// floor, and lowers it back to the base as the live heap grows past it: at
// most the floor is added to what Go's default would hold. GOMEMLIMIT
// still caps the heap.
package heapfloor

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// maxPercent bounds the GC percent for a nearly empty heap.
const maxPercent = 100_000

// Percent is the GC percent that puts the heap goal of a live heap at
// least at floor bytes, and never under base.
func Percent(live, floor uint64, base int) int {
	if live == 0 || live >= floor {
		return base
	}
	p := (floor - live) * 100 / live
	if p > maxPercent {
		p = maxPercent
	}
	return max(base, int(p))
}

// Run sets the GC percent from the live heap now and then every interval
// until ctx ends, then puts base back. It changes the setting only when
// the percent moves by more than a tenth, so a steady heap costs nothing.
func Run(ctx context.Context, floor uint64, base int, every time.Duration) {
	defer debug.SetGCPercent(base)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	cur := base
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if p := Percent(sample[0].Value.Uint64(), floor, base); p*10 > cur*11 || p*11 < cur*10 {
				debug.SetGCPercent(p)
				cur = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
