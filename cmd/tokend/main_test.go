package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// lockedBuffer is a bytes.Buffer safe for a server goroutine and a test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs "tokend serve" through run() on 127.0.0.1:0 and returns
// its URL, the printed admin key, its log, and a function that stops it
// gracefully and returns its exit code.
func startServe(t *testing.T, dataDir string, extra ...string) (url, adminKey string, logs *lockedBuffer, stop func() int) {
	t.Helper()
	scheme := "http://"
	if slices.Contains(extra, "--tls-cert") || slices.Contains(extra, "--tls-self-signed") {
		scheme = "https://"
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs = &lockedBuffer{}
	stdout := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}, extra...)
		done <- run(ctx, args,
			strings.NewReader(""), stdout, io.MultiWriter(logs, pw), func(string) string { return "" })
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		url = scheme + a
	case code := <-done:
		t.Fatalf("serve exited with %d: %s", code, logs)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	adminKey = regexp.MustCompile(`tokend_[0-9A-Za-z]+`).FindString(stdout.String())
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return url, adminKey, logs, stop
}

// cli runs one client command through run() and returns its stdout.
func cli(t *testing.T, url, token string, wantCode int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"TOKEND_URL": url, "TOKEND_TOKEN": token}
	code := run(t.Context(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	if code != wantCode {
		t.Fatalf("tokend %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, &out, &errb)
	}
	return out.String()
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	url, admin, logs, stop := startServe(t, dir)
	if admin == "" {
		t.Fatal("first start printed no admin key")
	}
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "Pay", "--audience", "https://pay.example",
		"--scopes", "read,write", "--key-prefix", "pay"), &a)
	var k api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", a.ID, "--subject", "cust_1",
		"--scopes", "read", "--ratelimit", "burst:2:1m"), &k)
	if !strings.HasPrefix(k.Secret, "pay_") {
		t.Fatalf("secret %q lacks the API's prefix", k.Secret[:4])
	}
	cli(t, url, admin, 0, "keys", "verify", "--scopes", "read", k.Secret)
	cli(t, url, admin, 0, "keys", "verify", k.Secret)
	if out := cli(t, url, admin, exitRefused, "keys", "verify", k.Secret); !strings.Contains(out, "RATE_LIMITED") {
		t.Errorf("third verification: %s", out)
	}
	if out := cli(t, url, admin, 0, "keys", "list", "--api", a.ID); !strings.Contains(out, k.Key.ID) {
		t.Errorf("keys list lacks the key: %s", out)
	}
	var rot api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "rotate", "--json", k.Key.ID, "--grace", "1h"), &rot)
	cli(t, url, admin, 0, "keys", "update", k.Key.ID, "--name", "renamed")
	if out := cli(t, url, admin, 0, "keys", "show", k.Key.ID); !strings.Contains(out, "renamed") {
		t.Errorf("keys show: %s", out)
	}
	cli(t, url, admin, 0, "keys", "revoke", k.Key.ID)
	if out := cli(t, url, admin, exitRefused, "keys", "verify", rot.Secret); !strings.Contains(out, "REVOKED") {
		t.Errorf("after revoke: %s", out)
	}
	cli(t, url, "tokend_wrong", exitRefused, "apis", "list")

	// admin-key create works offline, beside the running server, and
	// prints only the key.
	key2 := strings.TrimSpace(cli(t, "", "", 0, "admin-key", "create", "--data-dir", dir))
	if !regexp.MustCompile(`^tokend_[0-9A-Za-z]{49}$`).MatchString(key2) {
		t.Fatalf("admin-key create printed %q", key2)
	}
	cli(t, url, key2, 0, "apis", "list")

	if code := stop(); code != 0 {
		t.Fatalf("graceful shutdown exited %d: %s", code, logs)
	}
	for _, s := range []string{k.Secret, rot.Secret, admin, key2} {
		if strings.Contains(logs.String(), s[len(s)-30:]) {
			t.Errorf("a secret appears in the server log")
		}
	}
	// Bookkeeping flushed at shutdown: the key's usage was written.
	db, err := store.Open(t.Context(), filepath.Join(dir, "tokend.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.KeyByID(t.Context(), k.Key.ID)
	if err != nil || got.UsageCount != 2 || got.LastUsedAt.IsZero() {
		t.Errorf("after shutdown: usage %d, last used %v, %v; want 2 and a time", got.UsageCount, got.LastUsedAt, err)
	}

	// A second start prints no new admin key.
	_, again, _, _ := startServe(t, dir)
	if again != "" {
		t.Error("second start printed another admin key")
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}
