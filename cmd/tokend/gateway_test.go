package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// startGateway runs "tokend gateway" through run() on 127.0.0.1:0 with
// env, and returns its URL and log; it stops when t ends.
func startGateway(t *testing.T, env map[string]string, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		all := append([]string{"gateway", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
		done <- run(ctx, all, strings.NewReader(""), io.Discard, io.MultiWriter(logs, pw), func(k string) string { return env[k] })
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
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-addr:
		return "http://" + a, logs
	case code := <-done:
		t.Fatalf("gateway exited with %d: %s", code, logs)
	case <-time.After(20 * time.Second):
		t.Fatal("gateway did not start")
	}
	return "", nil
}

// gatewaySetup is a real tokend with an API "orders", a key holding
// orders:read, a verify key, and an upstream.
func gatewaySetup(t *testing.T) (tokendURL, key, vkey, upstream string) {
	t.Helper()
	dir := t.TempDir()
	url, admin, _, _ := startServe(t, dir)
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "Orders", "--audience", "orders",
		"--scopes", "orders:read,orders:write", "--key-prefix", "ord"), &a)
	var k api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", a.ID, "--subject", "cust_1", "--scopes", "orders:read"), &k)
	vkey = strings.TrimSpace(cli(t, "", "", 0, "admin-key", "create", "--data-dir", dir, "--scopes", "tokend:verify"))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Tokend-Subject")+" "+r.URL.Path)
	}))
	t.Cleanup(up.Close)
	return url, k.Secret, vkey, up.URL
}

// gwGet sends GET path with key through client and returns the status;
// reused reports whether the connection was an old one.
func gwGet(t *testing.T, c *http.Client, url, key string) (status int, reused bool) {
	t.Helper()
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}), "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, reused
}

// TestGatewayCommandFlags: the single-upstream case with flags alone.
func TestGatewayCommandFlags(t *testing.T) {
	tokend, key, vkey, upstream := gatewaySetup(t)
	env := map[string]string{"TOKEND_TOKEN": vkey}
	gw, logs := startGateway(t, env, "--tokend", tokend, "--upstream", upstream, "--audience", "orders", "--scope", "orders:read",
		"--metrics-addr", "127.0.0.1:0")
	if status, _ := gwGet(t, http.DefaultClient, gw+"/x", key); status != 200 {
		t.Errorf("with orders:read: %d, want 200", status)
	}
	if m := metricsPage(t, logs); !strings.Contains(m, `tokend_gateway_requests_total{code="200",route="default"} 1`) ||
		!strings.Contains(m, `tokend_gateway_upstream_seconds_count{route="default"} 1`) {
		t.Errorf("metrics listener lacks the request:\n%s", m)
	}
	big, _ := http.NewRequestWithContext(t.Context(), "GET", gw+"/x", nil)
	big.Header.Set("X-Big", strings.Repeat("a", 100<<10))
	if resp, err := http.DefaultClient.Do(big); err != nil || resp.StatusCode != 431 {
		t.Errorf("a 100 KiB header: %v %v, want 431", resp, err)
	} else {
		resp.Body.Close()
	}
	gw2, _ := startGateway(t, env, "--tokend", tokend, "--upstream", upstream, "--audience", "orders",
		"--scope", "orders:read", "--scope", "orders:write")
	if status, _ := gwGet(t, http.DefaultClient, gw2+"/x", key); status != 403 {
		t.Errorf("without orders:write: %d, want 403", status)
	}
	for _, args := range [][]string{
		{"gateway", "--tokend", tokend, "--upstream", upstream},                                          // no audience
		{"gateway", "--tokend", tokend, "--routes", "x.json", "--upstream", upstream, "--audience", "a"}, // both
	} {
		if code := run(t.Context(), args, strings.NewReader(""), io.Discard, io.Discard, func(k string) string { return env[k] }); code != 2 {
			t.Errorf("tokend %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	noKey := []string{"gateway", "--tokend", tokend, "--upstream", upstream, "--audience", "orders"}
	if code := run(t.Context(), noKey, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" }); code != 2 {
		t.Errorf("without TOKEND_TOKEN: exit %d, want 2", code)
	}
}

// metricsPage fetches /metrics from the address the gateway logged.
func metricsPage(t *testing.T, logs *lockedBuffer) string {
	t.Helper()
	var addr string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "metrics listening" {
			addr = l.Addr
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics listener at %q: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestGatewayCommandReloadsOnSIGHUP: SIGHUP applies a new route file
// without dropping the connection in use; a bad file is logged and the
// old routes stay.
func TestGatewayCommandReloadsOnSIGHUP(t *testing.T) {
	tokend, key, vkey, upstream := gatewaySetup(t)
	file := filepath.Join(t.TempDir(), "routes.json")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	route := func(path string) string {
		return `{"path": "` + path + `", "upstream": "` + upstream + `", "audience": "orders", "scopes": ["orders:read"]}`
	}
	write(`{"routes": [` + route("/a") + `]}`)
	gw, logs := startGateway(t, map[string]string{"TOKEND_TOKEN": vkey}, "--tokend", tokend, "--routes", file)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	if s, _ := gwGet(t, c, gw+"/a", key); s != 200 {
		t.Fatalf("/a before reload: %d", s)
	}
	if s, _ := gwGet(t, c, gw+"/b", key); s != 404 {
		t.Fatalf("/b before reload: %d, want 404", s)
	}
	hangup := func(logLine string) {
		t.Helper()
		n := strings.Count(logs.String(), logLine)
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for i := 0; strings.Count(logs.String(), logLine) == n; i++ {
			if i == 1000 {
				t.Fatalf("no %q in the log after SIGHUP: %s", logLine, logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write(`{"routes": [` + route("/a") + `, ` + route("/b") + `]}`)
	hangup("route file reloaded")
	if s, reused := gwGet(t, c, gw+"/b", key); s != 200 || !reused {
		t.Errorf("/b after reload: %d, connection reused %v; want 200 on the same connection", s, reused)
	}
	write(`{"routes": [{"path": "/", "upstream": "` + upstream + `"}]}`) // no audience
	hangup("route file not reloaded")
	if s, _ := gwGet(t, c, gw+"/b", key); s != 200 {
		t.Errorf("/b after a bad file: %d, want 200 (the old routes)", s)
	}
	if !strings.Contains(logs.String(), `audience`) {
		t.Errorf("the log does not say why the file was refused: %s", logs)
	}
}

// TestGatewayCommandIdentityAndProxies: --identity-key (read from
// $TOKEND_IDENTITY_KEY here) publishes the key's JWKS, --trusted-proxies
// is accepted, and a key file that is no private key, or a bad CIDR, is
// a usage error.
func TestGatewayCommandIdentityAndProxies(t *testing.T) {
	tokend, key, vkey, upstream := gatewaySetup(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	dir := t.TempDir()
	keyFile, junk := filepath.Join(dir, "identity.pem"), filepath.Join(dir, "junk.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(junk, []byte("not a key"), 0o600)
	env := map[string]string{"TOKEND_TOKEN": vkey, "TOKEND_IDENTITY_KEY": keyFile}
	gw, _ := startGateway(t, env, "--tokend", tokend, "--upstream", upstream, "--audience", "orders",
		"--trusted-proxies", "127.0.0.1")
	if status, _ := gwGet(t, http.DefaultClient, gw+"/x", key); status != 200 {
		t.Errorf("through the gateway: %d, want 200", status)
	}
	resp, err := http.Get(gw + api.IdentityJWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kty, Crv, Alg, D string }
	}
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil || len(set.Keys) != 1 || set.Keys[0].Crv != "P-256" || set.Keys[0].Alg != "ES256" || set.Keys[0].D != "" {
		t.Errorf("JWKS %+v, %v", set, err)
	}
	base := []string{"gateway", "--tokend", tokend, "--upstream", upstream, "--audience", "orders"}
	for _, extra := range [][]string{{"--identity-key", junk}, {"--identity-key", filepath.Join(dir, "missing.pem")},
		{"--identity-key", keyFile, "--identity-ttl", "2h"}, {"--trusted-proxies", "10.0.0.0/99"},
		{"--dpop-nonce-secret-file", junk}, {"--dpop-nonce-secret-file", filepath.Join(dir, "missing")},
		{"--public-url", "/relative"}, {"--redis", "ftp://not-redis"}} {
		args := append(slices.Clone(base), extra...)
		if code := run(t.Context(), args, strings.NewReader(""), io.Discard, io.Discard,
			func(k string) string { return map[string]string{"TOKEND_TOKEN": vkey}[k] }); code != 2 {
			t.Errorf("tokend %s: exit %d, want 2", strings.Join(extra, " "), code)
		}
	}
}

func TestGatewayRefusesNegativeHeapFloor(t *testing.T) {
	env := map[string]string{"TOKEND_TOKEN": "tokend_x"}
	for _, c := range []struct {
		args []string
		env  string
	}{
		{[]string{"--heap-floor-mib", "-1"}, ""},
		{nil, "-1"},
	} {
		env["TOKEND_HEAP_FLOOR_MIB"] = c.env
		args := append([]string{"gateway", "--listen", "127.0.0.1:0", "--tokend", "http://127.0.0.1:1", "--upstream", "http://127.0.0.1:1",
			"--audience", "a"}, c.args...)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // without the check, the gateway would run
		defer cancel()
		var out, errb strings.Builder
		code := run(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
		if code != 2 || !strings.Contains(errb.String(), "--heap-floor-mib must be 0 (off) or more") {
			t.Errorf("%v with TOKEND_HEAP_FLOOR_MIB=%q: exit %d, want 2 with a --heap-floor-mib error; stderr: %s", c.args, c.env, code, errb.String())
		}
	}
}
