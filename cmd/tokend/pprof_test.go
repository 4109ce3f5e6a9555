package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestServePprofRefusesNonLoopbackAddr(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "example.com:6060", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--pprof-addr", addr}
			var out, errb strings.Builder
			code := run(t.Context(), args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
			if code != 2 || !strings.Contains(errb.String(), "--pprof-addr") {
				t.Errorf("exit %d, want 2 with a --pprof-addr error; stderr: %s", code, errb.String())
			}
		})
	}
}

func TestServeRefusesNegativeHeapFloor(t *testing.T) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--heap-floor-mib", "-1"}
	var out, errb strings.Builder
	code := run(t.Context(), args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	if code != 2 || !strings.Contains(errb.String(), "--heap-floor-mib") {
		t.Errorf("exit %d, want 2 with a --heap-floor-mib error; stderr: %s", code, errb.String())
	}
}

func TestServePprofOnlyWhenAskedAndApart(t *testing.T) {
	url, _, logs, _ := startServe(t, t.TempDir())
	if code := get(t, url+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("API port without --pprof-addr: GET /debug/pprof/ = %d, want 404", code)
	}
	if strings.Contains(logs.String(), "pprof listening") {
		t.Error("pprof started without --pprof-addr")
	}

	url, _, logs, _ = startServe(t, t.TempDir(), "--pprof-addr", "127.0.0.1:0")
	pprofAddr := ""
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(line.Msg, "pprof listening") {
			pprofAddr = line.Addr
		}
	}
	if pprofAddr == "" {
		t.Fatalf("no pprof listening line in the log: %s", logs)
	}
	if code := get(t, "http://"+pprofAddr+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("pprof port: GET /debug/pprof/ = %d, want 200", code)
	}
	if code := get(t, url+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("API port with --pprof-addr: GET /debug/pprof/ = %d, want 404", code)
	}
}

func get(t *testing.T, u string) int {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
