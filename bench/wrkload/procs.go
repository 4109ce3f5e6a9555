package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokend/tokend/api"
)

// request is one benchmarked request: wrk sends it over and over.
type request struct {
	path, auth, contentType, body string
	// want must occur in the answer of a good request.
	want string
}

// target is a running server under test.
type target struct {
	name   string // "bare", "tokend" or "before"
	base   string // http://127.0.0.1:port
	pprof  string // base URL of net/http/pprof, or ""
	reqs   map[string]request
	logDir string
	pid    int
	log    io.Closer // tokend's log, written until the process exits
}

const (
	verifyWant = `"valid":true`
	tokenWant  = `"access_token":"eyJ`
	tokenBody  = "grant_type=client_credentials&scope=read"
	formType   = "application/x-www-form-urlencoded"
)

// startAll starts the bare handler and each tokend binary, seeded, and
// returns them bare first. cleanup stops every process started.
func startAll(ctx context.Context, o options, dir string) ([]*target, func(), error) {
	var procs []*exec.Cmd
	var targets []*target
	cleanup := func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.Process.Kill()
				<-done
			}
		}
		for _, t := range targets {
			if t.log != nil {
				t.log.Close()
			}
		}
	}
	bare, p, err := startBare(ctx, o.profile != "")
	if p != nil {
		procs = append(procs, p)
	}
	if err != nil {
		return nil, cleanup, err
	}
	targets = append(targets, bare)
	type bin struct {
		name, path, pprof string
		flags             []string
	}
	bins := []bin{{"tokend", o.tokend, o.profile, strings.Fields(o.serveFlags)}}
	if o.before != "" {
		bins = append([]bin{{"before", o.before, "", nil}}, bins...)
	}
	for _, b := range bins {
		t, p, err := startTokend(ctx, b.name, b.path, filepath.Join(dir, b.name), b.pprof != "", b.flags)
		if p != nil {
			procs = append(procs, p)
			targets = append(targets, t)
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("%s (%s): %w", b.name, b.path, err)
		}
	}
	for _, t := range targets {
		for name, r := range t.reqs {
			if err := check(ctx, t, r); err != nil {
				return nil, cleanup, fmt.Errorf("%s %s: %w", t.name, name, err)
			}
		}
	}
	return targets, cleanup, nil
}

// startBare re-executes this program as the bare handler process, which
// prints its address once it listens.
func startBare(ctx context.Context, profile bool) (*target, *exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"bare"}
	pprofBase := ""
	if profile {
		pa, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		args, pprofBase = append(args, "-pprof-addr", pa), "http://"+pa
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return nil, cmd, fmt.Errorf("bare handler did not start: %w", err)
	}
	go io.Copy(io.Discard, out)
	base := "http://" + strings.TrimSpace(line)
	t := &target{name: "bare", base: base, pid: cmd.Process.Pid, pprof: pprofBase, reqs: map[string]request{
		"verify": {path: "/v1/verify", auth: "Bearer unused", contentType: "application/json",
			body: `{"token":"bench_unused"}`, want: verifyWant},
		"token": {path: "/oauth2/token", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("id:secret")),
			contentType: formType, body: tokenBody, want: tokenWant},
	}}
	return t, cmd, nil
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startTokend runs "tokend serve" on SQLite in dataDir, its JSON log at
// info level going through a pipe, as under systemd or a container
// runtime, into dataDir/tokend.log; it reads the bootstrap admin key from
// its standard output and seeds it.
func startTokend(ctx context.Context, name, bin, dataDir string, pprof bool, extra []string) (*target, *exec.Cmd, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	args := append([]string{"serve", "--addr", addr, "--data-dir", dataDir, "--log-format", "json", "--log-level", "info"}, extra...)
	t := &target{name: name, base: "http://" + addr, logDir: dataDir}
	if pprof {
		pa, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		args = append(args, "--pprof-addr", pa)
		t.pprof = "http://" + pa
	}
	logf, err := newLogSink(filepath.Join(dataDir, "tokend.log"))
	if err != nil {
		return nil, nil, err
	}
	t.log = logf
	stdout := &logSink{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, err
	}
	t.pid = cmd.Process.Pid
	if err := waitHealthy(ctx, t.base, cmd); err != nil {
		return t, cmd, fmt.Errorf("%w; its log is %s", err, logf.f.Name())
	}
	admin := adminKey(stdout.String())
	if admin == "" {
		return t, cmd, fmt.Errorf("no bootstrap admin key in its output: %q", stdout.String())
	}
	if err := seed(ctx, t, admin); err != nil {
		return t, cmd, fmt.Errorf("seed: %w", err)
	}
	return t, cmd, nil
}

func waitHealthy(ctx context.Context, base string, cmd *exec.Cmd) error {
	exited := make(chan struct{})
	go func() { cmd.Process.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("tokend exited at start")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("tokend did not become healthy within 30s")
}

// adminKey finds the bootstrap admin key "tokend serve" prints once.
func adminKey(out string) string {
	for f := range strings.FieldsSeq(out) {
		if strings.HasPrefix(f, "tokend_") {
			return f
		}
	}
	return ""
}

// seed creates, through the API, an API with scopes read and write, a key
// of it (verified by the verify case), a tokend:verify key (the caller of
// /v1/verify) and a client_credentials client issuing JWTs.
func seed(ctx context.Context, t *target, admin string) error {
	var a api.API
	if err := call(ctx, t.base+"/v1/apis", admin, api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "bench"}, &a); err != nil {
		return err
	}
	var key, verifier api.CreatedKey
	if err := call(ctx, t.base+"/v1/keys", admin, api.CreateKeyRequest{APIID: a.ID, Subject: "user_1", Scopes: []string{"read"}}, &key); err != nil {
		return err
	}
	if err := call(ctx, t.base+"/v1/keys", admin, api.CreateKeyRequest{APIID: "api_tokend", Subject: "bench",
		Name: "bench verifier", Scopes: []string{"tokend:verify"}}, &verifier); err != nil {
		return err
	}
	var cl api.CreatedClient
	if err := call(ctx, t.base+"/v1/clients", admin, api.CreateClientRequest{Name: "bench jwt",
		GrantTypes: []string{"client_credentials"}, APIScopes: map[string][]string{a.ID: {"read"}},
		AccessTokenFormat: "jwt"}, &cl); err != nil {
		return err
	}
	body, _ := json.Marshal(api.VerifyRequest{Token: key.Secret})
	t.reqs = map[string]request{
		"verify": {path: "/v1/verify", auth: "Bearer " + verifier.Secret, contentType: "application/json",
			body: string(body), want: verifyWant},
		"token": {path: "/oauth2/token", contentType: formType, body: tokenBody, want: tokenWant,
			auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cl.Client.ID)+":"+url.QueryEscape(cl.Secret)))},
	}
	return nil
}

// call POSTs req as JSON with the admin key and decodes the answer.
func call(ctx context.Context, u, admin string, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", "Bearer "+admin)
	hr.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", u, res.Status, body)
	}
	return json.Unmarshal(body, resp)
}

// check sends r once and requires 200 and the wanted text; for a token it
// also requires an ES256 JWT.
func check(ctx context.Context, t *target, r request) error {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+r.path, strings.NewReader(r.body))
	if err != nil {
		return err
	}
	hr.Header.Set("Authorization", r.auth)
	hr.Header.Set("Content-Type", r.contentType)
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(r.want)) {
		return fmt.Errorf("check request: %s: %s", res.Status, body)
	}
	if t.name == "bare" || r.want != tokenWant {
		return nil
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(body, &tr)
	hdr, _, _ := strings.Cut(tr.AccessToken, ".")
	h, err := base64.RawURLEncoding.DecodeString(hdr)
	if err != nil || !bytes.Contains(h, []byte(`"alg":"ES256"`)) {
		return fmt.Errorf("access token is not an ES256 JWT: header %q", h)
	}
	return nil
}

// logSink receives a process's output through the pipe os/exec makes,
// keeping it in memory, or buffered on its way to a file (as journald or a
// container runtime would take a service's standard error).
type logSink struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	mem bytes.Buffer
}

func newLogSink(path string) (*logSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &logSink{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return l.mem.Write(p)
	}
	return l.w.Write(p)
}

// String returns what an in-memory sink received.
func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mem.String()
}

// Close flushes a file sink; call it once the process has exited.
func (l *logSink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return nil
	}
	return errors.Join(l.w.Flush(), l.f.Close())
}
