// Command verifyload measures POST /v1/verify end to end. It starts tokend
// in process on SQLite in a temporary directory (wired as "tokend serve"
// wires it), seeds keys straight through the store, warms the verification
// cache, then drives the endpoint with a closed-loop load generator, each
// request naming a random seeded key. In the same run it drives a bare
// net/http handler that decodes the same body and answers a fixed
// response, so that tokend's figures can be read against the cost of HTTP
// and JSON alone on this machine.
//
//	go run ./bench/verifyload [-keys 100000] [-c 64] [-d 10s] [-scale]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/bench/internal/node"
	"github.com/tokend/tokend/internal/credential"
)

// Targets.
const (
	minRatio = 0.60
	maxP99   = 5 * time.Millisecond
	maxRSS   = 300 // MiB, with -scale
)

type options struct {
	keys, scaleKeys, c, cacheSize int
	d, scaleD, cacheTTL           time.Duration
	warm, scale                   bool
}

func main() {
	var o options
	flag.IntVar(&o.keys, "keys", 100_000, "keys to seed")
	flag.IntVar(&o.c, "c", 64, "concurrent connections")
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each measured run")
	flag.IntVar(&o.cacheSize, "cache-size", 100_000, "tokend --cache-size")
	flag.DurationVar(&o.cacheTTL, "cache-ttl", 10*time.Second, "tokend --cache-ttl")
	flag.BoolVar(&o.warm, "warm", true, "verify every cacheable key once before measuring")
	flag.BoolVar(&o.scale, "scale", false, "then grow to -scale-keys keys and measure again")
	flag.IntVar(&o.scaleKeys, "scale-keys", 1_000_000, "keys of the -scale run")
	flag.DurationVar(&o.scaleD, "scale-d", 0, "duration of the -scale run (default -d)")
	heap := flag.String("heapprofile", "", "write a heap profile here at the end")
	flag.Parse()
	if *heap != "" {
		defer writeHeap(*heap)
	}
	if o.scaleD == 0 {
		o.scaleD = o.d
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "verifyload:", err)
		os.Exit(1)
	}
}

func writeHeap(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifyload:", err)
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.WriteHeapProfile(f)
}

func run(o options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-verifyload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	header(o, dir)
	n, err := node.Start(ctx, node.Config{Dir: dir, CacheSize: o.cacheSize, CacheTTL: o.cacheTTL})
	if err != nil {
		return err
	}
	defer n.Close()
	apiID, err := n.CreateBenchAPI(ctx)
	if err != nil {
		return err
	}
	verifyKey, err := n.AdminKey(ctx, "bench verifier", "tokend:verify")
	if err != nil {
		return err
	}
	client := loadgen.Client(o.c)
	var toks node.Tokens
	first, err := phase(ctx, o, n, client, apiID, verifyKey, &toks, o.keys, o.keys, o.d)
	if err != nil {
		return err
	}
	bare, err := runBare(client, &toks, o)
	if err != nil {
		return err
	}
	verdict(fmt.Sprintf("%d keys", o.keys), first, bare)
	if !o.scale {
		return nil
	}
	// The same working set as the first phase, now with scale-keys stored:
	// "verification stays as fast" compares these two. Then every stored
	// key uniformly, where most lookups miss a cache of cache-size entries
	// and go to SQLite.
	big, err := phase(ctx, o, n, client, apiID, verifyKey, &toks, o.scaleKeys, o.keys, o.scaleD)
	if err != nil {
		return err
	}
	if bare, err = runBare(client, &toks, o); err != nil {
		return err
	}
	verdict(fmt.Sprintf("%d keys stored, the same %d-key working set", o.scaleKeys, o.keys), big, bare)
	fmt.Printf("  %d keys vs %d keys stored, same working set: %.0f vs %.0f req/s (ratio %.2f), p99 %s vs %s\n",
		o.scaleKeys, o.keys, big.RPS(), first.RPS(), big.RPS()/first.RPS(), big.Percentile(0.99), first.Percentile(0.99))
	all, err := phase(ctx, o, n, client, apiID, verifyKey, &toks, o.scaleKeys, o.scaleKeys, o.scaleD)
	if err != nil {
		return err
	}
	fmt.Printf("  uniform over all %d keys (cache of %d: mostly database lookups): %.0f req/s, p99 %s\n",
		o.scaleKeys, o.cacheSize, all.RPS(), all.Percentile(0.99))
	fmt.Printf("  RSS %s (target < %d MiB for the whole process, load generator and its %.1f MiB token table included)\n",
		node.RSS(), maxRSS, float64(toks.Bytes())/(1<<20))
	return nil
}

func header(o options, dir string) {
	fmt.Printf("verifyload: %s, %d CPUs, GOMAXPROCS %d\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Println("NOTE: the load generator, tokend and the bare server run in ONE process and share these cores;")
	fmt.Println("      figures are relative (tokend vs bare on the same machine), not capacity numbers.")
	fmt.Println(node.LogNote)
	fmt.Printf("store: SQLite in %s; cache-size %d, cache-ttl %s; %d connections, keep-alive\n",
		dir, o.cacheSize, o.cacheTTL, o.c)
}

// phase seeds up to keys, warms the cache and measures tokend.
func phase(ctx context.Context, o options, n *node.Node, client *http.Client, apiID, verifyKey string,
	toks *node.Tokens, keys, span int, d time.Duration) (*loadgen.Result, error) {
	fmt.Printf("\n== %d keys stored, requests over %d of them ==\n", keys, span)
	if err := n.Seed(ctx, apiID, toks, keys, os.Stdout); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("RSS after seeding: %s (token table %.1f MiB of it)\n", node.RSS(), float64(toks.Bytes())/(1<<20))
	t := loadgen.Target{URL: n.URL + "/v1/verify", Auth: "Bearer " + verifyKey, Body: verifyBody(toks, span),
		WantStatus: http.StatusOK, Want: []byte(`"code":"VALID"`)}
	if o.warm {
		warm := uint64(min(span, max(o.cacheSize, 0)))
		r := loadgen.Run(client, t, o.c, 0, warm)
		fmt.Printf("warm-up (cold cache, each of %d keys once, %s): %s\n", warm, r.Elapsed.Round(time.Millisecond), r)
	} else {
		fmt.Println("no warm-up: the run starts with a cold cache")
	}
	hits0, miss0 := n.Counter("tokend_verify_cache_hits_total"), n.Counter("tokend_verify_cache_misses_total")
	r := loadgen.Run(client, t, o.c, d, 0)
	hits, miss := n.Counter("tokend_verify_cache_hits_total")-hits0, n.Counter("tokend_verify_cache_misses_total")-miss0
	fmt.Printf("tokend  /v1/verify, random key of %d, %s: %s\n", span, d, r)
	fmt.Printf("  cache: %.0f hits, %.0f misses (%.1f%% hits; counts include the bearer-key check), %d entries\n",
		hits, miss, 100*hits/max(hits+miss, 1), n.Engine.CacheLen())
	fmt.Printf("  RSS after the run: %s\n", node.RSS())
	return r, nil
}

// verifyBody builds the request for token n modulo the first span tokens.
func verifyBody(toks *node.Tokens, span int) func(uint64, []byte) []byte {
	return func(n uint64, buf []byte) []byte {
		buf = append(buf, `{"token":"`...)
		buf = append(buf, toks.At(int(n%uint64(min(span, toks.Len()))))...)
		return append(buf, `","audience":"`+node.Audience+`","scopes":["read"]}`...)
	}
}

// runBare serves a bare handler and drives it like tokend.
func runBare(client *http.Client, toks *node.Tokens, o options) (*loadgen.Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(bareVerify), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	t := loadgen.Target{URL: "http://" + ln.Addr().String() + "/v1/verify", Auth: "Bearer unused",
		Body: verifyBody(toks, toks.Len()), WantStatus: http.StatusOK, Want: []byte(`"code":"VALID"`)}
	loadgen.Run(client, t, o.c, time.Second, 0) // open the connections
	r := loadgen.Run(client, t, o.c, o.d, 0)
	fmt.Printf("\nbare net/http (decode api.VerifyRequest, encode a fixed api.VerifyResponse), %s: %s\n", o.d, r)
	return r, nil
}

var fixed = api.VerifyResponse{Valid: true, Code: api.CodeValid, Token: &api.TokenInfo{
	ID: "key_06b1g8b2s0000000000000000", Kind: credential.KindAPIKey, APIID: "api_06b1g8b2s0000000000000000",
	Subject: "user_12345", Scopes: []string{"read"}}}

func bareVerify(w http.ResponseWriter, r *http.Request) {
	var req api.VerifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Token == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(&fixed)
}

func verdict(name string, tokend, bare *loadgen.Result) {
	ratio := tokend.RPS() / bare.RPS()
	p99 := tokend.Percentile(0.99)
	fmt.Printf("\n-- verdict, %s --\n", name)
	fmt.Printf("  tokend %.0f req/s vs bare %.0f req/s: ratio %.2f (target >= %.2f) %s\n",
		tokend.RPS(), bare.RPS(), ratio, minRatio, mark(ratio >= minRatio))
	fmt.Printf("  tokend p50 %s, p99 %s (target p99 < %s) %s; bare p50 %s, p99 %s\n",
		tokend.Percentile(0.5).Round(time.Microsecond), p99.Round(time.Microsecond), maxP99, mark(p99 < maxP99),
		bare.Percentile(0.5).Round(time.Microsecond), bare.Percentile(0.99).Round(time.Microsecond))
	fmt.Printf("  errors: tokend %d, bare %d %s\n", tokend.Errors, bare.Errors, mark(tokend.Errors == 0 && bare.Errors == 0))
}

func mark(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}
