package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// results holds every run: by case, then target name, in run order; and
// the raw ES256 signing rate measured before each token run.
type results struct {
	cases []string
	runs  map[string]map[string][]result
	sign  []float64
}

// measure runs every case -runs times; within a run the targets go one
// after the other (bare, before, tokend), so that they share the
// machine's noise.
func measure(ctx context.Context, w *wrk, targets []*target, o options) (*results, error) {
	cases, err := caseNames(o)
	if err != nil {
		return nil, err
	}
	rs := &results{cases: cases, runs: map[string]map[string][]result{}}
	for _, c := range cases {
		rs.runs[c] = map[string][]result{}
		for _, t := range targets { // warm up: connections, caches, the JIT of nobody
			if _, err := w.run(ctx, t, t.reqs[c], o.warm); err != nil {
				return nil, fmt.Errorf("%s %s warm-up: %w", t.name, c, err)
			}
		}
		for i := range o.runs {
			if c == "token" {
				rate := signRate(min(2*time.Second, o.d))
				rs.sign = append(rs.sign, rate)
				fmt.Printf("  raw ES256 signature (RFC 6979), %d goroutines: %.0f signatures/s\n", runtime.GOMAXPROCS(0), rate)
			}
			for _, t := range targets {
				stop := profile(ctx, t, c, i, o)
				res, err := w.run(ctx, t, t.reqs[c], o.d)
				stop()
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", t.name, c, err)
				}
				rs.runs[c][t.name] = append(rs.runs[c][t.name], res)
				fmt.Printf("  run %d %-6s %-6s %9.0f req/s  p50 %-9s p99 %-9s CPU/req %5.1fµs (wrk %4.1fµs)  errors %d\n",
					i+1, c, t.name, res.rps, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond),
					micros(res.cpu), micros(res.wrkCPU), res.errors)
			}
		}
	}
	return rs, nil
}

// profile takes a CPU profile of t's run when -profile is set and t
// serves pprof; stop waits for it.
func profile(ctx context.Context, t *target, c string, i int, o options) (stop func()) {
	if o.profile == "" || t.pprof == "" {
		return func() {}
	}
	secs := max(1, int(o.d/time.Second)-1)
	path := filepath.Join(o.profile, fmt.Sprintf("%s-%s-%d.pprof", t.name, c, i+1))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", t.pprof, secs), path); err != nil {
			fmt.Fprintln(os.Stderr, "wrkload: profile:", err)
		}
	})
	return wg.Wait
}

func fetch(ctx context.Context, u, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// signRate measures the P-256 signature of a SHA-256 digest that tokend
// makes for each ES256 JWT (RFC 6979, ecdsa.PrivateKey.Sign with no
// random source) on GOMAXPROCS goroutines for d: the floor under ES256
// JWT issuance.
func signRate(d time.Duration) float64 {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := key.Sign(nil, digest[:], crypto.SHA256); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
