// Command wrkload measures tokend's two hot paths with wrk, each beside a
// bare net/http handler, all as separate processes on 127.0.0.1:
//
//   - POST /v1/verify of a cached key (the caller authenticated with a
//     tokend:verify key);
//   - POST /oauth2/token, client_credentials with client_secret_basic,
//     for a client whose access tokens are ES256 JWTs.
//
// It builds tokend from this tree (or takes -tokend), starts it with
// "tokend serve" on SQLite in a temporary directory (JSON access log at
// info level, to a file), seeds it through the HTTP API with its
// bootstrap admin key, and starts a bare handler process (this program,
// re-executed) that decodes the same JSON body, or parses the same form
// body, and answers a fixed small JSON. wrk (Debian package wrk; this
// command installs nothing) drives each at -c connections on -t threads
// for -d. It prints req/s and p99 of tokend and bare and their ratio, and
// for the token case the raw ES256 signature rate (P-256, RFC 6979, the
// call tokend makes) on every core.
//
//	go run ./bench/wrkload [-d 10s] [-runs 1] [-tokend path] [-before path] [-profile dir]
//
// -before measures a second tokend binary in the same sitting,
// interleaved with the first. -profile saves a CPU profile of each run of
// tokend, taken through its --pprof-addr (off by default), and of the
// bare handler.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type options struct {
	d          time.Duration
	c, t, runs int
	tokend     string
	before     string
	profile    string
	cases      string
	keepLog    bool
	serveFlags string
	warm       time.Duration
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "wrkload bare:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.DurationVar(&o.d, "d", 10*time.Second, "duration of each wrk run (whole seconds, at least 1s)")
	flag.IntVar(&o.c, "c", 50, "wrk connections")
	flag.IntVar(&o.t, "t", 2, "wrk threads")
	flag.IntVar(&o.runs, "runs", 1, "how many times to repeat each measurement, interleaved")
	flag.StringVar(&o.tokend, "tokend", "", "tokend binary to measure (default: build ./cmd/tokend of this tree)")
	flag.StringVar(&o.before, "before", "", "a second tokend binary (e.g. built from an older commit) measured in the same sitting")
	flag.StringVar(&o.profile, "profile", "", "directory for a CPU profile of each run of -tokend (through its --pprof-addr) and of bare")
	flag.StringVar(&o.cases, "cases", "verify,token", "which cases to run: verify, token or both")
	flag.DurationVar(&o.warm, "warm", 2*time.Second, "wrk warm-up before each case's first measured run")
	flag.StringVar(&o.serveFlags, "serve-flags", "", "more flags for -tokend's serve (not -before's), space-separated, e.g. \"--log-level warn\"")
	flag.BoolVar(&o.keepLog, "keep", false, "keep the temporary directory (tokend's data and access log)")
	flag.Parse()
	if o.d < time.Second || o.runs < 1 || o.c < 1 || o.t < 1 {
		fmt.Fprintln(os.Stderr, "wrkload: -d must be at least 1s; -runs, -c and -t at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "wrkload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	wrkPath, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed; install it (Debian/Ubuntu: apt-get install wrk) and run again")
	}
	dir, err := os.MkdirTemp("", "tokend-wrkload-")
	if err != nil {
		return err
	}
	if o.keepLog {
		fmt.Println("temporary directory kept:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Printf("wrkload: %s, %d CPUs; wrk %d threads, %d connections, %s per run, %d run(s)\n",
		runtime.Version(), runtime.NumCPU(), o.t, o.c, o.d, o.runs)
	fmt.Println("NOTE: wrk, tokend and the bare handler are separate processes sharing this machine's cores;")
	fmt.Println("      read tokend against the bare handler measured in the same sitting.")
	if o.tokend == "" {
		if o.tokend, err = buildTokend(ctx, dir); err != nil {
			return err
		}
	}
	targets, cleanup, err := startAll(ctx, o, dir)
	defer cleanup()
	if err != nil {
		return err
	}
	w := &wrk{path: wrkPath, dir: dir, o: o}
	results, err := measure(ctx, w, targets, o)
	if err != nil {
		return err
	}
	report(os.Stdout, results, targets, o)
	return nil
}

// buildTokend builds ./cmd/tokend of the module this command runs in.
func buildTokend(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "tokend-bin")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tokend/tokend/cmd/tokend")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build tokend: %w", err)
	}
	return bin, nil
}

// caseNames returns the cases selected by -cases, in a fixed order.
func caseNames(o options) ([]string, error) {
	var out []string
	for _, c := range []string{"verify", "token"} {
		if strings.Contains(o.cases, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-cases %q names neither verify nor token", o.cases)
	}
	return out, nil
}
