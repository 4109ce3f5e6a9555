package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/bench/internal/proccpu"
)

// wrk runs the wrk binary.
type wrk struct {
	path string
	dir  string
	o    options
}

// result is what one wrk run measured.
type result struct {
	rps      float64
	p50, p99 time.Duration
	requests int64
	// errors counts socket errors and answers other than 2xx/3xx.
	errors int64
	// cpu is the CPU time (user and system) the server process and wrk
	// used per request: unlike req/s, it hardly depends on what else
	// runs on the machine.
	cpu, wrkCPU time.Duration
}

// run drives base+r.path for d and parses wrk's report.
func (w *wrk) run(ctx context.Context, t *target, r request, d time.Duration) (result, error) {
	script := filepath.Join(w.dir, "request.lua")
	if err := os.WriteFile(script, []byte(luaScript(r)), 0o600); err != nil {
		return result{}, err
	}
	secs := int(d.Round(time.Second) / time.Second)
	cmd := exec.CommandContext(ctx, w.path, "-t", strconv.Itoa(w.o.t), "-c", strconv.Itoa(w.o.c),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "5s", "--latency", "-s", script, t.base+r.path)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cpu0, err := proccpu.Of(t.pid)
	if err != nil {
		return result{}, err
	}
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s%s", err, stderr.String(), out.String())
	}
	cpu1, err := proccpu.Of(t.pid)
	if err != nil {
		return result{}, err
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return result{}, fmt.Errorf("%w in wrk's output:\n%s", err, out.String())
	}
	if res.requests > 0 {
		res.cpu = (cpu1 - cpu0) / time.Duration(res.requests)
		res.wrkCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()) / time.Duration(res.requests)
	}
	return res, nil
}

// luaScript makes every request of wrk the POST r.
func luaScript(r request) string {
	return fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = %q\nwrk.headers[\"Authorization\"] = %q\n",
		r.body, r.contentType, r.auth)
}

// parseWrk reads the report of "wrk --latency".
func parseWrk(out string) (result, error) {
	var res result
	var haveRPS, haveP99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, err
			}
			res.rps, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			v, err := parseLatency(f[1])
			if err != nil {
				return res, err
			}
			if f[0] == "50%" {
				res.p50 = v
			} else {
				res.p99, haveP99 = v, true
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			res.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			for _, kv := range f[2:] {
				if n, err := strconv.ParseInt(strings.TrimSuffix(kv, ","), 10, 64); err == nil {
					res.errors += n
				}
			}
		case len(f) == 5 && f[0] == "Non-2xx":
			n, _ := strconv.ParseInt(f[4], 10, 64)
			res.errors += n
		}
	}
	if !haveRPS || !haveP99 {
		return res, fmt.Errorf("no Requests/sec or 99%% latency")
	}
	return res, nil
}

// parseLatency reads wrk's "1.23ms", "456.78us" or "1.02s".
func parseLatency(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(f * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("latency %q has no unit", s)
}
