// Command signinload measures people's sign-in and sessions in process,
// on SQLite in a temporary directory, wired as "tokend serve" wires them:
//
//   - the cost of a session check (user.Service.CheckSession of a cached
//     session, what every page request pays) beside a cached API key
//     verification (verify.Engine.Verify), the target being a session
//     check that costs no more;
//
//   - sign-ins per second with the default argon2id parameters, with -c
//     sign-ins running at once (default 50) and, for comparison, as many
//     as there are hash slots, each for half of -d; and the heap they hold
//     at peak beside the bound the hashing limit sets (hash slots ×
//     argon2id memory).
//
//     go run ./bench/signinload [-c 50] [-d 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
)

const password = "violet-harbour-lantern-42"

func main() {
	conc := flag.Int("c", 50, "sign-ins running at once")
	dur := flag.Duration("d", 10*time.Second, "how long to sign in")
	flag.Parse()
	if err := run(*conc, *dur); err != nil {
		log.Fatal(err)
	}
}

func run(conc int, d time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "signinload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "tokend.db"), store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	users := user.New(user.Config{DB: db})
	if _, err := users.Create(ctx, audit.System, api.CreateUserRequest{Username: "alice", Password: password}); err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("argon2id: %d MiB, t=%d, p=%d; hash slots %d\n\n", user.DefaultParams.Memory/1024,
		user.DefaultParams.Time, user.DefaultParams.Threads, runtime.GOMAXPROCS(0))
	if err := checks(ctx, db, users); err != nil {
		return err
	}
	// The same at the hashing limit and at -c: the heap depends on the
	// limit, not on how many sign-ins wait for a slot.
	if err := signIns(ctx, users, runtime.GOMAXPROCS(0), d/2); err != nil {
		return err
	}
	return signIns(ctx, users, conc, d/2)
}

// checks compares a cached session check with a cached key verification.
func checks(ctx context.Context, db *store.DB, users *user.Service) error {
	si, err := users.SignIn(ctx, "alice", password, user.ClientMeta{IP: "192.0.2.1", UserAgent: "signinload"})
	if err != nil {
		return err
	}
	keys := apikey.NewService(apikey.Config{DB: db})
	a, err := keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read"}, KeyPrefix: "bench"})
	if err != nil {
		return err
	}
	_, token, err := keys.CreateKey(ctx, audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "s", Scopes: []string{"read"}})
	if err != nil {
		return err
	}
	engine := verify.New(verify.Config{DB: db})
	req := &verify.Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1}
	var buf [4]ratelimit.State
	res := verify.Result{RateLimits: buf[:0]}
	var failed atomic.Bool
	key := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := engine.Verify(ctx, req, &res); err != nil || res.Code != api.CodeValid {
				failed.Store(true)
			}
		}
	})
	session := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := users.CheckSession(ctx, si.Token); err != nil {
				failed.Store(true)
			}
		}
	})
	if failed.Load() {
		return fmt.Errorf("a check failed during the benchmark")
	}
	fmt.Println("cached check, one goroutine:")
	fmt.Printf("  API key verification  %8d ns/op %4d allocs/op\n", key.NsPerOp(), key.AllocsPerOp())
	fmt.Printf("  session check         %8d ns/op %4d allocs/op  (%.2f× the key verification; target ≤ 1)\n\n",
		session.NsPerOp(), session.AllocsPerOp(), float64(session.NsPerOp())/float64(key.NsPerOp()))
	return nil
}

// signIns runs conc sign-ins at once for d and samples the heap.
func signIns(ctx context.Context, users *user.Service, conc int, d time.Duration) error {
	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	})
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conc {
		wg.Go(func() {
			// Each goroutine its own address: the throttle counts
			// failures only, and there are none, but keep it realistic.
			m := user.ClientMeta{IP: fmt.Sprintf("198.51.100.%d", i%250), UserAgent: "signinload"}
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := users.SignIn(ctx, "alice", password, m); err != nil {
					errs.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	sampler.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("no sign-in succeeded (%d errors)", errs.Load())
	}
	bound := uint64(runtime.GOMAXPROCS(0)) * uint64(user.DefaultParams.Memory) * 1024
	held := peak.Load() - min(base, peak.Load())
	fmt.Printf("sign-ins, %d at once for %v:\n", conc, d)
	fmt.Printf("  %d sign-ins, %.1f/s; latency p50 %v, p99 %v; %d errors\n", len(lat),
		float64(len(lat))/elapsed.Seconds(), lat[len(lat)/2].Round(time.Millisecond),
		lat[len(lat)*99/100].Round(time.Millisecond), errs.Load())
	fmt.Printf("  heap: %.0f MiB before, peak %.0f MiB (+%.0f MiB); hashing bound %.0f MiB (slots × argon2id memory), "+
		"%.2f× it (GOGC lets garbage hashes wait for the next cycle)\n",
		mib(base), mib(peak.Load()), mib(held), mib(bound), float64(held)/float64(bound))
	return nil
}

// heapBytes is the memory of the heap's objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
