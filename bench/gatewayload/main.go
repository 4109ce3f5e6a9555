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
//	go run ./bench/gatewayload [-d 10s] [-c 50] [-t 2] [-tokend path]
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
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

type options struct {
	d      time.Duration
	c, t   int
	tokend string
	warm   time.Duration
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
	flag.Parse()
	if o.d < time.Second || o.c < 1 || o.t < 1 {
		fmt.Fprintln(os.Stderr, "gatewayload: -d must be at least 1s; -c and -t at least 1")
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
// upstream with the gateway's connection pool size, nothing else.
func serveBareProxy(addr, upstream string) {
	u, err := url.Parse(upstream)
	ln, lerr := net.Listen("tcp", addr)
	if err != nil || lerr != nil {
		fmt.Fprintln(os.Stderr, err, lerr)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	p := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256}}
	http.Serve(ln, p)
}

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
	if o.tokend == "" {
		o.tokend = filepath.Join(dir, "tokend")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.tokend, "./cmd/tokend").CombinedOutput(); err != nil {
			return fmt.Errorf("build tokend: %w: %s", err, out)
		}
	}
	procs := &processes{}
	defer procs.stop()
	upstream, token, gateway, err := startAll(ctx, o, dir, procs)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	out, err := procs.start(ctx, self, []string{"proxy", "127.0.0.1:0", upstream}, nil, nil, `^([0-9.:]+)$`)
	if err != nil {
		return fmt.Errorf("bare proxy: %w", err)
	}
	bare := "http://" + out[1]
	w := wrkRunner{path: wrkPath, o: o, dir: dir}
	if _, err := w.run(ctx, gateway, token, o.warm); err != nil {
		return err
	}
	direct, err := w.run(ctx, upstream, "", o.d)
	if err != nil {
		return err
	}
	proxied, err := w.run(ctx, bare, "", o.d)
	if err != nil {
		return err
	}
	through, err := w.run(ctx, gateway, token, o.d)
	if err != nil {
		return err
	}
	report(os.Stdout, direct, proxied, through)
	return nil
}

// startAll starts tokend, seeds it, and starts the upstream and the
// gateway; it returns their URLs and the client token.
func startAll(ctx context.Context, o options, dir string, procs *processes) (upstream, token, gateway string, err error) {
	data := filepath.Join(dir, "data")
	out, err := procs.start(ctx, o.tokend, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "info",
		"--log-format", "json"}, nil, regexp.MustCompile(`tokend_[0-9A-Za-z]{49}`), `"listening".*"addr":"([0-9.:]+)"`)
	if err != nil {
		return "", "", "", fmt.Errorf("tokend serve: %w", err)
	}
	tokendURL, admin := "http://"+out[1], out[0]
	c, err := client.New(client.Config{URL: tokendURL, Token: admin})
	if err != nil {
		return "", "", "", err
	}
	a, err := c.CreateAPI(ctx, api.CreateAPIRequest{Name: "bench", Audience: "bench", Scopes: []string{"read"}, KeyPrefix: "bench"})
	if err != nil {
		return "", "", "", err
	}
	k, err := c.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "bench", Scopes: []string{"read"}})
	if err != nil {
		return "", "", "", err
	}
	vk, err := c.CreateKey(ctx, api.CreateKeyRequest{APIID: "api_tokend", Subject: "gateway", Scopes: []string{"tokend:verify"}})
	if err != nil {
		return "", "", "", err
	}
	self, err := os.Executable()
	if err != nil {
		return "", "", "", err
	}
	out, err = procs.start(ctx, self, []string{"upstream", "127.0.0.1:0"}, nil, nil, `^([0-9.:]+)$`)
	if err != nil {
		return "", "", "", fmt.Errorf("upstream: %w", err)
	}
	upstream = "http://" + out[1]
	out, err = procs.start(ctx, o.tokend, []string{"gateway", "--listen", "127.0.0.1:0", "--tokend", tokendURL, "--upstream", upstream,
		"--audience", "bench", "--scope", "read", "--log-format", "json"},
		[]string{"TOKEND_TOKEN=" + vk.Secret}, nil, `"listening".*"addr":"([0-9.:]+)"`)
	if err != nil {
		return "", "", "", fmt.Errorf("tokend gateway: %w", err)
	}
	return upstream, k.Secret, "http://" + out[1], nil
}

// processes are the child processes, stopped at the end.
type processes struct{ cmds []*exec.Cmd }

// start runs bin and waits for a line of its output matching ready; it
// returns the first match of secret in any line before it (or "") and
// ready's first group.
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
	errors   int64
}

type wrkRunner struct {
	path string
	o    options
	dir  string
}

// run drives url for d with wrk, with the bearer token when not empty.
func (w wrkRunner) run(ctx context.Context, url, token string, d time.Duration) (result, error) {
	script := filepath.Join(w.dir, "req.lua")
	lua := ""
	if token != "" {
		lua = fmt.Sprintf("wrk.headers[\"Authorization\"] = %q\n", "Bearer "+token)
	}
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return result{}, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, w.path, "-t", strconv.Itoa(w.o.t), "-c", strconv.Itoa(w.o.c), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "5s", "--latency", "-s", script, url+"/bench")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out.String())
	}
	return parseWrk(out.String())
}

// parseWrk reads the report of "wrk --latency".
func parseWrk(out string) (result, error) {
	var res result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
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
	fmt.Fprintf(w, "%-24s %12s %10s %10s %8s\n", "", "req/s", "p50", "p99", "errors")
	for _, r := range []struct {
		name string
		res  result
	}{{"upstream directly", direct}, {"bare httputil proxy", bare}, {"through gateway", through}} {
		fmt.Fprintf(w, "%-24s %12.0f %10s %10s %8d\n", r.name, r.res.rps, r.res.p50, r.res.p99, r.res.errors)
	}
	fmt.Fprintf(w, "gateway: %.2f of direct req/s (target >= 0.6), p50 added %s (target < 500µs)\n",
		through.rps/direct.rps, through.p50-direct.p50)
	fmt.Fprintf(w, "gateway: %.2f of the bare proxy's req/s, p50 added %s over it\n",
		through.rps/bare.rps, through.p50-bare.p50)
}
