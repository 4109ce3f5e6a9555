// Command multinode measures tokend as several nodes run it. It builds
// the real binary and, for cached keys that each carry a rate limit (so
// every verification goes through the limiter), drives POST /v1/verify:
//
//   - on SQLite with in-process limits (one node), then
//   - on PostgreSQL + Redis (one of two nodes),
//
// and prints latency p50/p99 and requests/s of each with the ratio of the
// p99s. Then it measures revocation propagation over loopback: revoke a
// key on node A, poll node B until it answers REVOKED, many times.
//
//	go run ./bench/multinode [-c 32] [-d 5s] [-keys 200] [-reps 200]
//	    [-postgres postgres://…] [-redis redis://…]
//
// -postgres and -redis default to $TOKEND_TEST_POSTGRES and
// $TOKEND_TEST_REDIS, then to the local defaults. The run uses a fresh
// schema and Redis key prefix and drops the schema at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/internal/multinode"
	"github.com/tokend/tokend/internal/seal"
)

// Targets from the issue.
const (
	maxP99Ratio    = 2.0
	maxPropagation = 200 * time.Millisecond
)

type options struct {
	c, keys, reps   int
	d               time.Duration
	postgres, redis string
}

func main() {
	var o options
	flag.IntVar(&o.c, "c", 32, "concurrent connections")
	flag.DurationVar(&o.d, "d", 5*time.Second, "duration of each measured run")
	flag.IntVar(&o.keys, "keys", 200, "keys to verify at random")
	flag.IntVar(&o.reps, "reps", 200, "revocations to time")
	flag.StringVar(&o.postgres, "postgres", envOr("TOKEND_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "shared PostgreSQL")
	flag.StringVar(&o.redis, "redis", envOr("TOKEND_TEST_REDIS", "redis://127.0.0.1:6379/0"), "shared Redis")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "multinode:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "tokend-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := multinode.Build(ctx, dir)
	if err != nil {
		return err
	}
	fmt.Printf("verification of cached keys, each with a rate limit: %d connections, %v per run, %d keys\n", o.c, o.d, o.keys)

	// SQLite, in-process limits.
	sqliteFlags := []string{"--data-dir", dir + "/sqlite"}
	lite, err := startNodes(ctx, bin, 1, sqliteFlags, nil)
	if err != nil {
		return err
	}
	liteRes, err := measure(ctx, lite, o)
	stopAll(lite)
	if err != nil {
		return err
	}
	fmt.Printf("  SQLite, limits in process:    %s\n", liteRes)

	// PostgreSQL + Redis, two nodes.
	dsn, drop, err := multinode.NewSchema(ctx, o.postgres)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer drop()
	redisURL := multinode.WithParam(o.redis, "key_prefix", "tokend:bench:"+multinode.Suffix()+":")
	kek := filepath.Join(dir, "kek") // nodes on one PostgreSQL share their key-encryption key
	if err := os.WriteFile(kek, []byte(seal.NewKEK()), 0o600); err != nil {
		return err
	}
	nodes, err := startNodes(ctx, bin, 2, []string{"--database", dsn}, []string{"--redis", redisURL, "--kek-file", kek,
		"--issuer", "http://tokend.bench"})
	if err != nil {
		return err
	}
	defer stopAll(nodes)
	pgRes, err := measure(ctx, nodes, o)
	if err != nil {
		return err
	}
	fmt.Printf("  PostgreSQL + Redis (node A):  %s\n", pgRes)
	ratio := float64(pgRes.Percentile(0.99)) / float64(liteRes.Percentile(0.99))
	fmt.Printf("  p99 ratio PostgreSQL+Redis / SQLite: %.2f (target <= %.1f) %s; rps ratio %.2f\n",
		ratio, maxP99Ratio, verdict(ratio <= maxP99Ratio), pgRes.RPS()/liteRes.RPS())

	sent, answered, err := propagation(ctx, nodes, o.reps)
	if err != nil {
		return err
	}
	fmt.Printf("revocation propagation A -> B over loopback, %d revocations:\n", o.reps)
	fmt.Printf("  from sending the revocation:    p50 %v  p99 %v  max %v\n", pct(sent, 0.5), pct(sent, 0.99), slices.Max(sent))
	fmt.Printf("  from the revocation's answer:   p50 %v  p99 %v  max %v\n", pct(answered, 0.5), pct(answered, 0.99), slices.Max(answered))
	fmt.Printf("  p99 (from sending) %v, target < %v %s\n", pct(sent, 0.99), maxPropagation, verdict(pct(sent, 0.99) < maxPropagation))
	return nil
}

type cluster struct {
	nodes []*multinode.Node
	admin string
}

func startNodes(ctx context.Context, bin string, n int, store, flags []string) (*cluster, error) {
	// --init: on SQLite the data directory is new, and admin-key create
	// refuses a missing database without it; PostgreSQL ignores it.
	admin, err := multinode.AdminKey(ctx, bin, append(slices.Clone(store), "--init")...)
	if err != nil {
		return nil, err
	}
	c := &cluster{admin: admin}
	for range n {
		node, err := multinode.StartNode(ctx, bin, append(slices.Clone(store), flags...)...)
		if err != nil {
			stopAll(c)
			return nil, err
		}
		c.nodes = append(c.nodes, node)
	}
	return c, nil
}

func stopAll(c *cluster) {
	for _, n := range c.nodes {
		n.Stop()
	}
}

// measure creates keys with a generous rate limit on the first node,
// verifies each once (caching it), then drives the first node.
func measure(ctx context.Context, c *cluster, o options) (*loadgen.Result, error) {
	cl := c.nodes[0].Client(c.admin)
	a, err := cl.CreateAPI(ctx, api.CreateAPIRequest{Name: "bench", Audience: "bench", KeyPrefix: "bench"})
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, o.keys)
	for i := range bodies {
		k, err := cl.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s" + strconv.Itoa(i),
			RateLimits: []api.RateLimit{{Name: "hour", Limit: 1_000_000_000, Window: api.Duration(time.Hour)}}})
		if err != nil {
			return nil, err
		}
		bodies[i] = []byte(`{"token":"` + k.Secret + `"}`)
		if _, err := c.nodes[0].Verify(ctx, c.admin, k.Secret); err != nil {
			return nil, err
		}
	}
	t := loadgen.Target{URL: c.nodes[0].URL + "/v1/verify", Auth: "Bearer " + c.admin, WantStatus: 200,
		Want: []byte(`"code":"VALID"`),
		Body: func(n uint64, buf []byte) []byte { return append(buf, bodies[n%uint64(len(bodies))]...) }}
	hc := loadgen.Client(o.c)
	loadgen.Run(hc, t, o.c, time.Second, 0) // warm-up
	res := loadgen.Run(hc, t, o.c, o.d, 0)
	if res.Errors > 0 {
		return nil, fmt.Errorf("%d errors, first: %s", res.Errors, res.FirstErr)
	}
	return res, nil
}

// propagation revokes reps keys on node A, each cached on node B first,
// and times until B answers REVOKED.
func propagation(ctx context.Context, c *cluster, reps int) (sent, answered []time.Duration, err error) {
	a, b := c.nodes[0], c.nodes[1]
	cl := a.Client(c.admin)
	list, err := cl.ListAPIs(ctx)
	if err != nil {
		return nil, nil, err
	}
	var apiID string
	for _, x := range list.APIs {
		if x.Audience == "bench" {
			apiID = x.ID
		}
	}
	for range reps {
		k, err := cl.CreateKey(ctx, api.CreateKeyRequest{APIID: apiID, Subject: "p"})
		if err != nil {
			return nil, nil, err
		}
		if code, err := b.Verify(ctx, c.admin, k.Secret); err != nil || code != api.CodeValid {
			return nil, nil, fmt.Errorf("B before the revocation: %s %v", code, err)
		}
		start := time.Now()
		if _, err := cl.RevokeKey(ctx, k.Key.ID); err != nil {
			return nil, nil, err
		}
		done := time.Now()
		for {
			code, err := b.Verify(ctx, c.admin, k.Secret)
			if err != nil {
				return nil, nil, err
			}
			if code == api.CodeRevoked {
				break
			}
			if time.Since(start) > 5*time.Second {
				return nil, nil, fmt.Errorf("B still answers %s 5s after the revocation", code)
			}
		}
		now := time.Now()
		sent, answered = append(sent, now.Sub(start)), append(answered, now.Sub(done))
	}
	return sent, answered, nil
}

func pct(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Microsecond)
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}
