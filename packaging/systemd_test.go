package packaging

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/multinode"
)

const unitFile = "systemd/tokend.service"

// serviceUID is the user a root test drops to, as the unit's DynamicUser
// does: SQLite calls fchown only as root, so root would use more.
const serviceUID = 65532

// TestSystemdSandboxAllowsTokend runs tokend under strace as a non-root
// user, on SQLite and (with TOKEND_TEST_POSTGRES and TOKEND_TEST_REDIS) on
// PostgreSQL and Redis, through start, verifications, metrics and a
// graceful shutdown, and checks that every system call it makes passes the
// unit's SystemCallFilter and every socket it opens its
// RestrictAddressFamilies: the sandbox must not break the service it holds.
func TestSystemdSandboxAllowsTokend(t *testing.T) {
	for _, tool := range []string{"strace", "systemd-analyze", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found; .ci/run installs strace and systemd", tool)
		}
	}
	if err := exec.Command("strace", "-f", "-qq", "-o", os.DevNull, "true").Run(); err != nil {
		t.Skipf("strace cannot trace here: %v", err)
	}
	allowed, families := unitSandbox(t)
	bin, err := multinode.Build(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pg, redis := os.Getenv("TOKEND_TEST_POSTGRES"), os.Getenv("TOKEND_TEST_REDIS")
	tests := []struct {
		name  string
		store func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", serviceDir(t)} }},
		{"postgres and redis", func(t *testing.T) []string {
			if pg == "" || redis == "" {
				t.Skip("needs TOKEND_TEST_POSTGRES and TOKEND_TEST_REDIS")
			}
			dsn, drop, err := multinode.NewSchema(t.Context(), pg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(drop)
			return []string{"--database", dsn, "--kek-file", kekFile(t), "--issuer", "http://tokend.test",
				"--redis", multinode.WithParam(redis, "key_prefix", "tokend:packaging:"+multinode.Suffix()+":")}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store(t)
			calls, socketFamilies := traceNode(t, bin, store)
			for _, c := range calls {
				if !allowed[c] {
					t.Errorf("tokend calls %s, which the unit's SystemCallFilter refuses", c)
				}
			}
			for _, f := range socketFamilies {
				if !slices.Contains(families, f) {
					t.Errorf("tokend opens an %s socket, which RestrictAddressFamilies=%s refuses", f, strings.Join(families, " "))
				}
			}
			if len(calls) < 20 || len(socketFamilies) == 0 {
				t.Errorf("the trace looks empty: %d system calls, socket families %v", len(calls), socketFamilies)
			}
		})
	}
}

// serviceDir returns a data directory the service user owns, on a path
// it may traverse.
func serviceDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	serviceOwns(t, dir)
	return dir
}

// serviceOwns gives path to the service user when the test runs as root,
// and opens the test's temporary directories above it to that user.
func serviceOwns(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	for p := filepath.Dir(path); p != filepath.Dir(p) && strings.HasPrefix(p, os.TempDir()+"/"); p = filepath.Dir(p) {
		os.Chmod(p, 0o755) // the test's own temporary directories only
	}
	if err := os.Chown(path, serviceUID, serviceUID); err != nil {
		t.Fatal(err)
	}
}

// traceNode runs bin serve with the store flags under strace (as the
// service user when the test runs as root), verifies a valid and an
// unknown token, reads /metrics and /readyz, stops it with SIGTERM, and
// returns the distinct system calls and socket families of the tokend
// process and its threads.
func traceNode(t *testing.T, bin string, store []string) (calls, families []string) {
	t.Helper()
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	wrapper := filepath.Join(dir, "tokend")
	drop := ""
	if os.Geteuid() == 0 {
		drop = fmt.Sprintf("setpriv --reuid=%d --regid=%d --clear-groups ", serviceUID, serviceUID)
	}
	script := fmt.Sprintf("#!/bin/sh\nexec strace -f -qq -o %s %s%s \"$@\"\n", trace, drop, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	n, err := multinode.StartNode(t.Context(), wrapper, store...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	admin, err := multinode.AdminKey(t.Context(), bin, store[:2]...)
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]api.Code{admin: api.CodeValid, "tokend_unknown": api.CodeNotFound} {
		if code, err := n.Verify(t.Context(), admin, token); err != nil || code != want {
			t.Fatalf("verify: %s, %v; want %s", code, err, want)
		}
	}
	if status, _, err := n.Ready(t.Context()); err != nil || status != 200 {
		t.Fatalf("readyz: %d, %v", status, err)
	}
	exportedMetrics(t, n)
	pid, err := tracedPID(trace)
	if err != nil {
		t.Fatal(err)
	}
	// SIGTERM to tokend itself (one to strace would detach it), then wait
	// for it to finish shutting down, so that the trace holds the shutdown.
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("tokend (pid %d) did not exit within 30 s of SIGTERM", pid)
		}
	}
	n.Stop()
	return readTrace(t, trace, bin)
}

// tracedPID returns the pid strace started, the first one in its output.
func tracedPID(trace string) (int, error) {
	f, err := os.Open(trace)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var pid int
	_, err = fmt.Fscan(f, &pid)
	return pid, err
}

var (
	traceCall   = regexp.MustCompile(`^\d+\s+([a-z_0-9]+)\(`)
	traceSocket = regexp.MustCompile(`\bsocket\((AF_[A-Z0-9]+)`)
)

// readTrace returns the distinct system calls and socket families in a
// strace output from the execve of bin on (what runs before, setpriv
// dropping privileges, is not tokend).
func readTrace(t *testing.T, trace, bin string) (calls, families []string) {
	t.Helper()
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	started := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		started = started || strings.Contains(line, `execve("`+bin+`"`)
		if m := traceCall.FindStringSubmatch(line); started && m != nil && !seen[m[1]] {
			seen[m[1]] = true
			calls = append(calls, m[1])
		}
		if m := traceSocket.FindStringSubmatch(line); started && m != nil && !slices.Contains(families, m[1]) {
			families = append(families, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls, families
}

// unitSandbox reads the unit's SystemCallFilter lines (allow lists, and
// ~ deny lists applied after them) and its RestrictAddressFamilies, and
// returns the system calls allowed, with every @group expanded by
// systemd-analyze, and the address families allowed.
func unitSandbox(t *testing.T) (map[string]bool, []string) {
	t.Helper()
	b, err := fs.ReadFile(os.DirFS("."), unitFile)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	var deny, families []string
	for line := range strings.Lines(string(b)) {
		key, value, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch key {
		case "SystemCallFilter":
			if rest, ok := strings.CutPrefix(value, "~"); ok {
				deny = append(deny, strings.Fields(rest)...)
				continue
			}
			for _, c := range expandSyscalls(t, strings.Fields(value)) {
				allowed[c] = true
			}
		case "RestrictAddressFamilies":
			families = strings.Fields(value)
		}
	}
	for _, c := range expandSyscalls(t, deny) {
		delete(allowed, c)
	}
	if len(allowed) == 0 || len(families) == 0 {
		t.Fatalf("%s: no SystemCallFilter allow list or RestrictAddressFamilies", unitFile)
	}
	return allowed, families
}

// expandSyscalls resolves system calls and @groups to system calls.
func expandSyscalls(t *testing.T, names []string) []string {
	t.Helper()
	var out []string
	for _, name := range names {
		if !strings.HasPrefix(name, "@") {
			out = append(out, name)
			continue
		}
		list, err := exec.Command("systemd-analyze", "syscall-filter", name).Output()
		if err != nil {
			t.Fatalf("systemd-analyze syscall-filter %s: %v", name, err)
		}
		var members []string
		for _, l := range strings.Split(string(list), "\n")[1:] { // the first line names the group
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				members = append(members, l)
			}
		}
		out = append(out, expandSyscalls(t, members)...)
	}
	return out
}
