package main

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/heapfloor"
)

// heapFloorFlag defines --heap-floor-mib, the same for serve and gateway.
func heapFloorFlag(fs *flag.FlagSet, p *int) {
	intFlag(fs, p, "heap-floor-mib", 64, "MiB the Go heap may grow to before the collector runs, "+
		"for less GC work under load (0: Go's default; ignored when GOGC is set)")
}

// checkHeapFloor refuses a negative --heap-floor-mib.
func checkHeapFloor(mib int) error {
	if mib < 0 {
		return fmt.Errorf("%w: --heap-floor-mib must be 0 (off) or more", errUsage)
	}
	return nil
}

// startHeapFloor runs heapfloor on wg until ctx ends, unless the floor is
// 0 or GOGC is set (the collector is then left as GOGC says).
func startHeapFloor(ctx context.Context, wg *sync.WaitGroup, mib int, gogcSet bool) {
	if mib > 0 && !gogcSet {
		wg.Go(func() { heapfloor.Run(ctx, uint64(mib)<<20, 100, time.Second) })
	}
}
