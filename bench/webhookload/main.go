// Command webhookload measures webhook delivery beside the request path.
// It starts tokend in process on SQLite (bench/internal/node), registers
// one endpoint on a local HTTPS receiver that sleeps -delay before it
// answers, queues -events audit events for it, and drives POST /v1/verify
// with a closed-loop load generator twice: once with no delivery running,
// then while the webhook worker drains the queue into the slow receiver.
// It prints the delivery throughput (bounded by -workers / -delay) and the
// two verify rates side by side: the request path should not notice.
//
//	go run ./bench/webhookload [-events 2000] [-delay 100ms] [-workers 8] [-c 32] [-d 5s]
package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/bench/internal/node"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/webhook"
)

type options struct {
	events, workers, c, keys int
	delay, d                 time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 2000, "events queued for the endpoint")
	flag.DurationVar(&o.delay, "delay", 100*time.Millisecond, "how long the receiver sleeps before it answers")
	flag.IntVar(&o.workers, "workers", 8, "deliveries in flight per node (webhook.Config.Workers)")
	flag.IntVar(&o.c, "c", 32, "concurrent verify connections")
	flag.IntVar(&o.keys, "keys", 1000, "keys verified at random")
	flag.DurationVar(&o.d, "d", 5*time.Second, "duration of each verify run")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-webhookload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("webhookload: %s, %d CPUs, GOMAXPROCS %d\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Println("NOTE: the load generator, tokend and the receiver run in ONE process and share these cores.")
	fmt.Printf("receiver: HTTPS on 127.0.0.1, sleeps %s per delivery; %d workers; %d events; verify with %d connections\n",
		o.delay, o.workers, o.events, o.c)
	n, err := node.Start(ctx, node.Config{Dir: dir, CacheSize: 100_000, CacheTTL: 10 * time.Second})
	if err != nil {
		return err
	}
	defer n.Close()

	var delivered atomic.Int64
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(o.delay)
		delivered.Add(1)
	}))
	defer rcv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(rcv.Certificate())
	kek := make([]byte, 32)
	rand.Read(kek)
	wh := webhook.New(webhook.Config{DB: n.DB, KEK: kek, Workers: o.workers, Poll: 20 * time.Millisecond,
		Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: roots, Timeout: 30 * time.Second, MaxConcurrent: o.workers})})
	if _, _, err := wh.Create(ctx, audit.System, api.CreateWebhookRequest{URL: rcv.URL + "/hook", Events: []string{"key.create"}}); err != nil {
		return err
	}
	for i := range o.events {
		ev, err := audit.Change(audit.System, time.Now(), "key.create", "key", fmt.Sprintf("key_%d", i), nil, map[string]int{"n": i})
		if err != nil {
			return err
		}
		if err := n.DB.AppendEvent(ctx, ev); err != nil {
			return err
		}
	}

	apiID, err := n.CreateBenchAPI(ctx)
	if err != nil {
		return err
	}
	verifyKey, err := n.AdminKey(ctx, "bench verifier", "tokend:verify")
	if err != nil {
		return err
	}
	var toks node.Tokens
	if err := n.Seed(ctx, apiID, &toks, o.keys, os.Stdout); err != nil {
		return err
	}
	client := loadgen.Client(o.c)
	t := loadgen.Target{URL: n.URL + "/v1/verify", Auth: "Bearer " + verifyKey, Body: verifyBody(&toks),
		WantStatus: http.StatusOK, Want: []byte(`"code":"VALID"`)}
	loadgen.Run(client, t, o.c, 0, uint64(o.keys)) // warm the cache

	alone := loadgen.Run(client, t, o.c, o.d, 0)
	fmt.Printf("\nverify, no deliveries running, %s: %s\n", o.d, alone)

	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	start := time.Now()
	go func() { wh.Run(wctx); close(done) }()
	beside := loadgen.Run(client, t, o.c, o.d, 0)
	during := delivered.Load()
	fmt.Printf("verify, while deliveries drain into the slow receiver, %s: %s\n", o.d, beside)
	for delivered.Load() < int64(o.events) && time.Since(start) < 10*time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	all := time.Since(start)
	stop()
	<-done

	fmt.Printf("\ndeliveries: %d during the verify run (%.0f/s); all %d in %s: %.0f deliveries/s (ceiling workers/delay = %.0f/s)\n",
		during, float64(during)/o.d.Seconds(), delivered.Load(), all.Round(time.Millisecond),
		float64(delivered.Load())/all.Seconds(), float64(o.workers)/o.delay.Seconds())
	fmt.Printf("verify beside deliveries / verify alone: %.0f / %.0f req/s = %.2f; p99 %s vs %s\n",
		beside.RPS(), alone.RPS(), beside.RPS()/alone.RPS(), beside.Percentile(0.99).Round(time.Microsecond),
		alone.Percentile(0.99).Round(time.Microsecond))
	return nil
}

func verifyBody(toks *node.Tokens) func(uint64, []byte) []byte {
	return func(n uint64, buf []byte) []byte {
		buf = append(buf, `{"token":"`...)
		buf = append(buf, toks.At(int(n%uint64(toks.Len())))...)
		return append(buf, `","audience":"`+node.Audience+`","scopes":["read"]}`...)
	}
}
