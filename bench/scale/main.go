// Command scale measures tokend with many stored keys as a separate
// process: it seeds the SQLite store in process, then runs the real
// tokend binary (built from ./cmd/tokend) on that store and drives
// POST /v1/verify over one working set, first with -keys stored and then
// with -scale-keys stored, printing requests/s, p50/p99 and the tokend
// process's own resident memory (VmRSS during the run, VmHWM peak).
//
//	go run ./bench/scale [-keys 100000] [-scale-keys 1000000] [-c 64] [-d 10s]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/bench/internal/node"
)

type options struct {
	keys, scaleKeys, c, cacheSize int
	d                             time.Duration
}

func main() {
	var o options
	flag.IntVar(&o.keys, "keys", 100_000, "keys stored in the first run; also the working set of both runs")
	flag.IntVar(&o.scaleKeys, "scale-keys", 1_000_000, "keys stored in the second run")
	flag.IntVar(&o.c, "c", 64, "concurrent connections")
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each measured run")
	flag.IntVar(&o.cacheSize, "cache-size", 100_000, "tokend --cache-size")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "tokend-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "tokend")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/tokend").CombinedOutput(); err != nil {
		return fmt.Errorf("build tokend: %v: %s", err, out)
	}
	fmt.Printf("scale: tokend runs as its own process with default settings (JSON access log at info, drained), --cache-size %d; the load generator is this process; both share the machine's cores\n", o.cacheSize)
	var toks node.Tokens
	apiID, verifyKey, err := seed(dir, "", &toks, o.keys)
	if err != nil {
		return err
	}
	small, err := measure(bin, dir, o, &toks, verifyKey)
	if err != nil {
		return err
	}
	if _, _, err := seed(dir, apiID, &toks, o.scaleKeys); err != nil {
		return err
	}
	big, err := measure(bin, dir, o, &toks, verifyKey)
	if err != nil {
		return err
	}
	fmt.Printf("\n-- %d vs %d keys stored, the same %d-key working set --\n", o.scaleKeys, o.keys, o.keys)
	fmt.Printf("  req/s %.0f vs %.0f (ratio %.2f); p99 %s vs %s\n", big.rps, small.rps, big.rps/small.rps, big.p99, small.p99)
	fmt.Printf("  tokend RSS with %d keys: %s during the run, peak %s (target < 300 MiB) %s\n",
		o.scaleKeys, mib(big.rss), mib(big.hwm), verdict(big.hwm < 300<<20))
	return nil
}

// seed grows the store in dir to total keys (creating the API and a
// verify key on the first call) with the in-process node, then closes it.
func seed(dir, apiID string, toks *node.Tokens, total int) (string, string, error) {
	ctx := context.Background()
	n, err := node.Start(ctx, node.Config{Dir: dir, CacheSize: 1})
	if err != nil {
		return "", "", err
	}
	defer n.Close()
	verifyKey := ""
	if apiID == "" {
		if apiID, err = n.CreateBenchAPI(ctx); err != nil {
			return "", "", err
		}
		if verifyKey, err = n.AdminKey(ctx, "bench verifier", "tokend:verify"); err != nil {
			return "", "", err
		}
	}
	fmt.Printf("\n== seeding to %d keys ==\n", total)
	return apiID, verifyKey, n.Seed(ctx, apiID, toks, total, os.Stdout)
}

type figures struct {
	rps      float64
	p99      time.Duration
	rss, hwm int64
}

// measure starts tokend on dir, warms its cache with the working set,
// drives it for o.d and reads its memory.
func measure(bin, dir string, o options, toks *node.Tokens, verifyKey string) (figures, error) {
	cmd, url, err := startTokend(bin, dir, o.cacheSize)
	if err != nil {
		return figures{}, err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	client := loadgen.Client(o.c)
	t := loadgen.Target{URL: url + "/v1/verify", Auth: "Bearer " + verifyKey, WantStatus: http.StatusOK,
		Want: []byte(`"code":"VALID"`), Body: func(n uint64, buf []byte) []byte {
			buf = append(buf, `{"token":"`...)
			buf = append(buf, toks.At(int(n%uint64(o.keys)))...)
			return append(buf, `","audience":"`+node.Audience+`","scopes":["read"]}`...)
		}}
	loadgen.Run(client, t, o.c, 0, uint64(o.keys)) // warm: each key of the working set once
	r := loadgen.Run(client, t, o.c, o.d, 0)
	rss, hwm := procMem(cmd.Process.Pid)
	fmt.Printf("tokend with %d keys stored, random key of %d, %s: %s\n", toks.Len(), o.keys, o.d, r)
	fmt.Printf("  tokend process: VmRSS %s, VmHWM %s\n", mib(rss), mib(hwm))
	return figures{rps: r.RPS(), p99: r.Percentile(0.99), rss: rss, hwm: hwm}, nil
}

func startTokend(bin, dir string, cacheSize int) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json",
		"--cache-size", fmt.Sprint(cacheSize))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go func() { // keep draining: the access log goes here too
				for sc.Scan() {
				}
			}()
			return cmd, "http://" + line.Addr, nil
		}
	}
	cmd.Process.Kill()
	return nil, "", fmt.Errorf("tokend exited before listening")
}

// procMem reads VmRSS and VmHWM of pid, in bytes.
func procMem(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		var kb int64
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			rss = kb << 10
		}
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			hwm = kb << 10
		}
	}
	return rss, hwm
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}
