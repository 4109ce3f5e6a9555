// Command gatewayload measures `tokend gateway` with wrk: requests/s and
// p50/p99 latency through the gateway to a trivial upstream, beside the
// same upstream called directly, in one sitting, all as separate
// processes on 127.0.0.1.
//
// It builds tokend from this tree (or takes -tokend), starts "tokend
// serve" on SQLite in a temporary directory, creates an API and one API
// key without limits (so the gateway's cache answers after the first
// request: the "cached key" case), a verify key, an upstream (this
// program re-executed, answering a fixed 13-byte body), and "tokend
// gateway --upstream" in front of it. wrk (Debian package wrk; this
// command installs nothing) then runs against the upstream directly,
// through a bare httputil.ReverseProxy (this program re-executed: no
// token check, no header work), and through the gateway, -c connections
// for -d each. The bare proxy is the floor of any net/http proxy on the
// machine: the gateway's own cost is the difference between the two.
//
//	go run ./bench/gatewayload [-d 10s] [-c 50] [-t 2] [-runs 1] [-tokend path] [-cpuprofile file] [-gateway-flags "..."]
//
// With -runs N the three are measured N times in turn (direct, bare,
// gateway, direct, ...) and the median of the per-run ratios is reported
// beside each run's: on a shared machine a ratio taken within one run is
// far steadier than absolute figures. -cpuprofile saves a CPU profile of
// the gateway process (its --pprof-addr) during the last run through it.
// -gateway-flags adds flags to the gateway's command line, such as
// "--heap-floor-mib 0" to compare with Go's default collector.
//
// Targets (issue 12): at least 0.6 of the direct requests/s, and less
// than 0.5 ms added to p50.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/proccpu"
	"github.com/tokend/tokend/client"
)

type options struct {
	d          time.Duration
	c, t, runs int
	tokend     string
	warm       time.Duration
	cpuprofile string
	gwFlags    string
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "upstream" {
		serveUpstream(os.Args[2])
		return
	}
	if len(os.Args) > 3 && os.Args[1] == "proxy" {
		serveBareProxy(os.Args[2], os.Args[3])
		return
	}
	var o options
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each wrk run (whole seconds, at least 1s)")
	flag.IntVar(&o.c, "c", 50, "wrk connections")
	flag.IntVar(&o.t, "t", 2, "wrk threads")
	flag.StringVar(&o.tokend, "tokend", "", "tokend binary (default: build ./cmd/tokend of this tree)")
	flag.DurationVar(&o.warm, "warm", 2*time.Second, "wrk warm-up through the gateway before measuring")
	flag.IntVar(&o.runs, "runs", 1, "how many times to measure the three in turn; the median ratio is reported")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the gateway during its last run to this file")
	flag.StringVar(&o.gwFlags, "gateway-flags", "", "more flags for tokend gateway, space-separated, e.g. \"--heap-floor-mib 0\"")
	flag.Parse()
	if o.d < time.Second || o.c < 1 || o.t < 1 || o.runs < 1 {
		fmt.Fprintln(os.Stderr, "gatewayload: -d must be at least 1s; -c, -t and -runs at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gatewayload:", err)
		os.Exit(1)
	}
}

// serveUpstream is the trivial upstream: a fixed small answer.
func serveUpstream(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body := []byte("hello, world\n")
	fmt.Println(ln.Addr().String())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
}

// serveBareProxy is the baseline proxy: httputil.ReverseProxy to
// upstream with the gateway's connection pool size and a pool of copy
// buffers (without one it allocates 32 KiB per answer), nothing else.
func serveBareProxy(addr, upstream string) {
	u, err := url.Parse(upstream)
	ln, lerr := net.Listen("tcp", addr)
	if err != nil || lerr != nil {
		fmt.Fprintln(os.Stderr, err, lerr)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	p := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256}, BufferPool: &bufferPool{}}
	http.Serve(ln, p)
}

// bufferPool reuses the bare proxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

func run(ctx context.Context, o options) error {
	wrkPath, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed; install it (Debian/Ubuntu: apt-get install wrk) and run again")
	}
	dir, err := os.MkdirTemp("", "tokend-gatewayload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("gatewayload: %s, %d CPUs; wrk %d threads, %d connections, %s per run, one run each\n",
		runtime.Version(), runtime.NumCPU(), o.t, o.c, o.d)
	if o.gwFlags != "" {
		fmt.Printf("gatewayload: gateway flags %s\n", o.gwFlags)
	}
	if o.tokend == "" {
		o.tokend = filepath.Join(dir, "tokend")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.tokend, "./cmd/tokend").CombinedOutput(); err != nil {
			return fmt.Errorf("build tokend: %w: %s", err, out)
		}
	}
	procs := &processes{}
	defer procs.stop()
	pprofAddr := ""
	if o.cpuprofile != "" {
		if pprofAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	direct, gateway, err := startAll(ctx, o, dir, pprofAddr, procs)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := procs.start(ctx, self, []string{"proxy", "127.0.0.1:0", direct.url}, nil, nil, `^([0-9.:]+)$`)
	if err != nil {
		return fmt.Errorf("bare proxy: %w", err)
	}
	bare := target{url: "http://" + out[1], pids: []int{direct.pids[0], procs.last()}}
	w := wrkRunner{path: wrkPath, o: o, dir: dir}
	if _, err := w.run(ctx, gateway, o.warm); err != nil {
		return err
	}
	var runs [][3]result
	for i := range o.runs {
		var r [3]result
		if r[0], err = w.run(ctx, direct, o.d); err != nil {
			return err
		}
		if r[1], err = w.run(ctx, bare, o.d); err != nil {
			return err
		}
		var prof chan error
		if i == o.runs-1 && o.cpuprofile != "" {
			prof = make(chan error, 1)
			go func() { prof <- saveProfile(ctx, pprofAddr, o.d, o.cpuprofile) }()
		}
		if r[2], err = w.run(ctx, gateway, o.d); err != nil {
			return err
		}
		if prof != nil {
			if err := <-prof; err != nil {
				return err
			}
		}
		if o.runs > 1 {
			fmt.Printf("run %d:\n", i+1)
		}
		report(os.Stdout, r[0], r[1], r[2])
		runs = append(runs, r)
	}
	if o.runs > 1 {
		reportMedian(os.Stdout, runs)
	}
	return nil
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// saveProfile writes a CPU profile of the process serving pprof at addr,
// taken over the whole of d less half a second, to file.
func saveProfile(ctx context.Context, addr string, d time.Duration, file string) error {
	secs := max(1, int((d-500*time.Millisecond)/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	return os.WriteFile(file, b, 0o644)
}

// target is what wrk drives: a URL, the client's token (if any), and the
// processes that serve it, the upstream first.
type target struct {
	url, token string
	pids       []int
}

// startAll starts tokend, seeds it, and starts the upstream and the
// gateway; it returns them as targets, the gateway's with the client
// token.
func startAll(ctx context.Context, o options, dir, pprofAddr string, procs *processes) (direct, gateway target, err error) {
	data := filepath.Join(dir, "data")
	out, err := procs.start(ctx, o.tokend, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "info",
		"--log-format", "json"}, nil, regexp.MustCompile(`tokend_[0-9A-Za-z]{49}`), `"listening".*"addr":"([0-9.:]+)"`)
	if err != nil {
		return direct, gateway, fmt.Errorf("tokend serve: %w", err)
	}
	tokendURL, admin := "http://"+out[1], out[0]
	c, err := client.New(client.Config{URL: tokendURL, Token: admin})
	if err != nil {
		return direct, gateway, err
	}
	a, err := c.CreateAPI(ctx, api.CreateAPIRequest{Name: "bench", Audience: "bench", Scopes: []string{"read"}, KeyPrefix: "bench"})
	if err != nil {
		return direct, gateway, err
	}
	k, err := c.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "bench", Scopes: []string{"read"}})
	if err != nil {
		return direct, gateway, err
	}
	vk, err := c.CreateKey(ctx, api.CreateKeyRequest{APIID: "api_tokend", Subject: "gateway", Scopes: []string{"tokend:verify"}})
	if err != nil {
		return direct, gateway, err
	}
	self, err := os.Executable()
	if err != nil {
		return direct, gateway, err
	}
	out, err = procs.start(ctx, self, []string{"upstream", "127.0.0.1:0"}, nil, nil, `^([0-9.:]+)$`)
	if err != nil {
		return direct, gateway, fmt.Errorf("upstream: %w", err)
	}
	direct = target{url: "http://" + out[1], pids: []int{procs.last()}}
	args := []string{"gateway", "--listen", "127.0.0.1:0", "--tokend", tokendURL, "--upstream", direct.url,
		"--audience", "bench", "--scope", "read", "--log-format", "json"}
	if pprofAddr != "" {
		args = append(args, "--pprof-addr", pprofAddr)
	}
	args = append(args, strings.Fields(o.gwFlags)...)
	out, err = procs.start(ctx, o.tokend, args, []string{"TOKEND_TOKEN=" + vk.Secret}, nil, `"listening".*"addr":"([0-9.:]+)"`)
	if err != nil {
		return direct, gateway, fmt.Errorf("tokend gateway: %w", err)
	}
	return direct, target{url: "http://" + out[1], token: k.Secret, pids: []int{direct.pids[0], procs.last()}}, nil
}

// processes are the child processes, stopped at the end.
type processes struct{ cmds []*exec.Cmd }

// start runs bin and waits for a line of its output matching ready; it
// returns the first match of secret in any line before it (or "") and
// ready's first group. The process's id is p.last().
func (p *processes) start(ctx context.Context, bin string, args, env []string, secret *regexp.Regexp, ready string) ([2]string, error) {
	var got [2]string
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return got, err
	}
	p.cmds = append(p.cmds, cmd)
	re := regexp.MustCompile(ready)
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var s string
		for sc.Scan() {
			if secret != nil && s == "" {
				s = secret.FindString(sc.Text())
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- [2]string{s, m[1]}
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case got = <-found:
		return got, nil
	case <-time.After(30 * time.Second):
		return got, errors.New("did not start within 30s")
	}
}

// last is the id of the process started last.
func (p *processes) last() int { return p.cmds[len(p.cmds)-1].Process.Pid }

func (p *processes) stop() {
	for i := len(p.cmds) - 1; i >= 0; i-- {
		p.cmds[i].Process.Signal(os.Interrupt)
		p.cmds[i].Wait()
	}
}

// result is what one wrk run measured.
type result struct {
	rps      float64
	p50, p99 time.Duration
	requests int64
	errors   int64
	// upCPU, proxyCPU and wrkCPU are the CPU time (user and system) the
	// upstream, the proxy (none when called directly) and wrk used per
	// request: unlike req/s, they hardly depend on what else runs.
	upCPU, proxyCPU, wrkCPU time.Duration
}

// cpu is the CPU time per request of the whole chain.
func (r result) cpu() time.Duration { return r.upCPU + r.proxyCPU + r.wrkCPU }

type wrkRunner struct {
	path string
	o    options
	dir  string
}

// run drives t for d with wrk, with its bearer token when it has one.
func (w wrkRunner) run(ctx context.Context, t target, d time.Duration) (result, error) {
	script := filepath.Join(w.dir, "req.lua")
	lua := ""
	if t.token != "" {
		lua = fmt.Sprintf("wrk.headers[\"Authorization\"] = %q\n", "Bearer "+t.token)
	}
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return result{}, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, w.path, "-t", strconv.Itoa(w.o.t), "-c", strconv.Itoa(w.o.c), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "5s", "--latency", "-s", script, t.url+"/bench")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	before, err := cpuOf(t.pids)
	if err != nil {
		return result{}, err
	}
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out.String())
	}
	after, err := cpuOf(t.pids)
	if err != nil {
		return result{}, err
	}
	res, err := parseWrk(out.String())
	if err != nil || res.requests == 0 {
		return res, err
	}
	per := func(d time.Duration) time.Duration { return d / time.Duration(res.requests) }
	res.upCPU = per(after[0] - before[0])
	if len(t.pids) > 1 {
		res.proxyCPU = per(after[1] - before[1])
	}
	res.wrkCPU = per(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
	return res, nil
}

// cpuOf returns the CPU time used so far by each of pids.
func cpuOf(pids []int) ([]time.Duration, error) {
	var ds []time.Duration
	for _, pid := range pids {
		d, err := proccpu.Of(pid)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// parseWrk reads the report of "wrk --latency".
func parseWrk(out string) (result, error) {
	var res result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			res.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case len(f) == 2 && f[0] == "Requests/sec:":
			res.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			res.p50, _ = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			res.p99, _ = time.ParseDuration(f[1])
		case len(f) == 5 && f[0] == "Non-2xx":
			n, _ := strconv.ParseInt(f[4], 10, 64)
			res.errors += n
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			for _, kv := range f[2:] {
				if n, err := strconv.ParseInt(strings.TrimSuffix(kv, ","), 10, 64); err == nil {
					res.errors += n
				}
			}
		}
	}
	if res.rps == 0 || res.p50 == 0 {
		return res, fmt.Errorf("cannot read wrk's report:\n%s", out)
	}
	return res, nil
}

func report(w io.Writer, direct, bare, through result) {
	fmt.Fprintf(w, "%-22s %9s %9s %9s %7s   %s\n", "", "req/s", "p50", "p99", "errors", "CPU/request: upstream + proxy + wrk")
	for _, r := range []struct {
		name string
		res  result
	}{{"upstream directly", direct}, {"bare httputil proxy", bare}, {"through gateway", through}} {
		fmt.Fprintf(w, "%-22s %9.0f %9s %9s %7d   %5.1f + %5.1f + %4.1f = %5.1fµs\n", r.name, r.res.rps,
			r.res.p50.Round(time.Microsecond), r.res.p99.Round(time.Microsecond), r.res.errors,
			micros(r.res.upCPU), micros(r.res.proxyCPU), micros(r.res.wrkCPU), micros(r.res.cpu()))
	}
	fmt.Fprintf(w, "gateway: %.2f of direct req/s (target >= 0.6), p50 added %s (target < 500µs); cpu-ratio %.2f\n",
		through.rps/direct.rps, through.p50-direct.p50, cpuRatio(direct, through))
	fmt.Fprintf(w, "gateway: %.2f of the bare proxy's req/s, p50 added %s over it; cpu-ratio %.2f\n",
		through.rps/bare.rps, through.p50-bare.p50, cpuRatio(bare, through))
}

// cpuRatio is b's CPU per request over a's: the ratio of their req/s on
// a machine that runs nothing else and whose cores are all busy.
func cpuRatio(b, a result) float64 { return float64(b.cpu()) / float64(a.cpu()) }

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// reportMedian prints the medians over runs of the gateway's ratios to
// the direct upstream and to the bare proxy, and of its added p50.
func reportMedian(w io.Writer, runs [][3]result) {
	var ofDirect, ofBare, cpuDirect, cpuBare, gwCPU, bareCPU []float64
	var added, addedBare []time.Duration
	for _, r := range runs {
		ofDirect = append(ofDirect, r[2].rps/r[0].rps)
		ofBare = append(ofBare, r[2].rps/r[1].rps)
		cpuDirect = append(cpuDirect, cpuRatio(r[0], r[2]))
		cpuBare = append(cpuBare, cpuRatio(r[1], r[2]))
		gwCPU = append(gwCPU, micros(r[2].proxyCPU))
		bareCPU = append(bareCPU, micros(r[1].proxyCPU))
		added = append(added, r[2].p50-r[0].p50)
		addedBare = append(addedBare, r[2].p50-r[1].p50)
	}
	fmt.Fprintf(w, "median of %d runs:\n  gateway/direct: %.2f of req/s (target >= 0.6), cpu-ratio %.2f, p50 added %s (target < 500µs)\n"+
		"  gateway/bare proxy: %.2f of req/s, cpu-ratio %.2f, p50 added %s\n"+
		"  proxy CPU per request: gateway %.1fµs, bare proxy %.1fµs\n",
		len(runs), median(ofDirect), median(cpuDirect), median(added), median(ofBare), median(cpuBare), median(addedBare),
		median(gwCPU), median(bareCPU))
}

func median[T float64 | time.Duration](v []T) T {
	slices.Sort(v)
	return v[len(v)/2]
}
