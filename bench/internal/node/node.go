// Package node runs tokend in process for the benchmark commands, wired
// as cmd/tokend/serve.go wires it, and seeds its store quickly.
package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// LogNote describes the logger, for the output header.
const LogNote = "tokend logger: slog text handler at level warn, writing to io.Discard (access log lines are info, so filtered)"

// Config is the subset of "tokend serve" settings the benchmarks vary.
type Config struct {
	Dir       string // directory of the SQLite database
	CacheSize int
	CacheTTL  time.Duration
}

// Node is a running tokend.
type Node struct {
	URL    string
	DB     *store.DB
	Keys   *apikey.Service
	Engine *verify.Engine
	Reg    *prometheus.Registry
	http   *http.Server
	stopBg context.CancelFunc
	bgDone sync.WaitGroup
}

// Start opens the store and serves the API on 127.0.0.1:0, as start() in
// cmd/tokend/serve.go does (without the bootstrap admin key: the
// benchmarks create the keys they need).
func Start(ctx context.Context, cfg Config) (*Node, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, filepath.Join(cfg.Dir, "tokend.db"), store.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	kek := make([]byte, seal.KEKSize) // seals keys' hmac-sha256 signing secrets
	rand.Read(kek)
	engine := verify.New(verify.Config{DB: db, CacheSize: cfg.CacheSize, CacheTTL: cfg.CacheTTL,
		NegativeTTL: 5 * time.Second, Metrics: verify.NewMetrics(reg), Logger: log, KEK: kek})
	keys := apikey.NewService(apikey.Config{DB: db, Logger: log, KEK: kek})
	if err := keys.EnsureSystemAPI(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("create built-in API: %w", err)
	}
	srv := server.New(server.Config{DB: db, Keys: keys, Engine: engine, Gatherer: reg, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, err
	}
	n := &Node{URL: "http://" + ln.Addr().String(), DB: db, Keys: keys, Engine: engine, Reg: reg,
		http: server.HTTPServer(ln.Addr().String(), srv.Handler(), log)}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	n.stopBg = stop
	n.bgDone.Go(func() { engine.Run(bg) })
	n.bgDone.Go(func() { keys.Run(bg) })
	go n.http.Serve(ln)
	return n, nil
}

// Close shuts the node down as serve.go does: HTTP, then bookkeeping,
// then the store.
func (n *Node) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := n.http.Shutdown(ctx)
	n.stopBg()
	n.bgDone.Wait()
	return errors.Join(err, n.DB.Close())
}

// Counter returns the sum of the counter metric name.
func (n *Node) Counter(name string) float64 {
	mfs, err := n.Reg.Gather()
	if err != nil {
		return -1
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// RSS returns the resident set size of this process, from
// /proc/self/status, with the Go runtime's share of it.
func RSS() string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return fmt.Sprintf("%s (Go heap in use %.1f MiB, Go runtime total %.1f MiB)", vmRSS(),
		float64(ms.HeapInuse)/(1<<20), float64(ms.Sys-ms.HeapReleased)/(1<<20))
}

func vmRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "unknown"
}
