// Package multinode runs real tokend processes side by side, for the
// many-node tests (in this package) and the bench/multinode command: it
// builds the binary, gives each run a fresh PostgreSQL schema and Redis
// key prefix, starts nodes on ports the kernel picks, and can run a
// private redis-server or PostgreSQL cluster to stop and restart, so that
// a fault is never injected into services other tests share.
package multinode

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for schemas
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// Build compiles cmd/tokend into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "tokend")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tokend/tokend/cmd/tokend")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Suffix returns a random lowercase name part.
func Suffix() string { return strings.ToLower(rand.Text()[:12]) }

// NewSchema creates a fresh schema on the PostgreSQL at base and returns
// a DSN that uses it, and a function that drops it.
func NewSchema(ctx context.Context, base string) (dsn string, drop func(), err error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := "t_" + Suffix()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	drop = func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}
	return WithParam(base, "search_path", schema), drop, nil
}

// WithParam adds name=value to the query of a URL.
func WithParam(u, name, value string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + name + "=" + value
}

// Node is a running "tokend serve" process.
type Node struct {
	URL  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

// maxLogs caps the log a Node keeps, for benchmarks that log every request.
const maxLogs = 4 << 20

// StartNode runs bin serve with args (--addr and --log-format are added)
// and returns once it listens. The environment's TOKEND_* variables are
// not passed on.
func StartNode(ctx context.Context, bin string, args ...string) (*Node, error) {
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKEND_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = io.Discard // the first start's bootstrap key; tests mint their own
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &Node{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			n.mu.Lock()
			if n.logs.Len() < maxLogs {
				n.logs.Write(line)
				n.logs.WriteByte('\n')
			}
			n.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				select {
				case addr <- l.Addr:
				default:
				}
			}
		}
		cmd.Wait()
		close(n.done)
	}()
	select {
	case a := <-addr:
		n.URL = "http://" + a
		return n, nil
	case <-n.done:
		return nil, fmt.Errorf("tokend exited before listening:\n%s", n.Logs())
	case <-time.After(30 * time.Second):
		n.Kill()
		return nil, fmt.Errorf("tokend did not listen within 30s:\n%s", n.Logs())
	case <-ctx.Done():
		n.Kill()
		return nil, ctx.Err()
	}
}

// Logs returns what the node has logged so far.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logs.String()
}

// PID returns the node's process id.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Kill ends the node with SIGKILL and waits for it.
func (n *Node) Kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// Stop ends the node with SIGTERM (a graceful shutdown) and waits for it.
func (n *Node) Stop() {
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(20 * time.Second):
		n.Kill()
	}
}

// AdminKey mints an admin key offline with "tokend admin-key create"
// and the flags that name the store (--database or --data-dir).
func AdminKey(ctx context.Context, bin string, store ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"admin-key", "create", "--name", "multinode"}, store...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("admin-key create: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// HTTP is the client every node is called with: keep-alive connections,
// enough of them for the concurrent tests.
var HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}

// Client returns a management client of n.
func (n *Node) Client(adminKey string) *client.Client {
	c, err := client.New(client.Config{URL: n.URL, Token: adminKey, HTTPClient: HTTP})
	if err != nil {
		panic(err)
	}
	return c
}

// Verify asks n about token and returns the answer's code, or an error
// for anything but a 200.
func (n *Node) Verify(ctx context.Context, adminKey, token string) (api.Code, error) {
	res, err := n.Client(adminKey).Verify(ctx, api.VerifyRequest{Token: token})
	if err != nil {
		return "", err
	}
	return res.Code, nil
}

// Ready returns /readyz's status code and details.
func (n *Node) Ready(ctx context.Context) (int, map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", n.URL+"/readyz", nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var h api.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, h.Details, nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Redis is a private redis-server without persistence.
type Redis struct {
	Port int
	cmd  *exec.Cmd
}

// StartRedis runs redis-server on port (0: a free one) and waits until it
// answers.
func StartRedis(port int) (*Redis, error) {
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &Redis{Port: port, cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := io.ReadFull(c, buf)
			c.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return r, nil
			}
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, errors.New("redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL is the redis:// URL of r.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Stop kills redis-server.
func (r *Redis) Stop() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

// Postgres is a private PostgreSQL cluster, run as the postgres user.
type Postgres struct {
	Port int
	dir  string
	bin  string
}

// StartPostgres creates and starts a private cluster on a free port. It
// needs root (to run the server as postgres) and PostgreSQL's server
// binaries; the error says which is missing.
func StartPostgres() (*Postgres, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("a private PostgreSQL cluster needs root (to run it as the postgres user)")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return nil, errors.New("no /usr/lib/postgresql/*/bin/initdb")
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tokend-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{Port: port, dir: dir, bin: filepath.Dir(bins[len(bins)-1])}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chown: %v: %s", err, out)
	}
	if err := p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) run(name string, args ...string) error {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, out)
	}
	return nil
}

// DSN is the URL of the cluster's postgres database.
func (p *Postgres) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.Port)
}

// Start starts the server and waits until it accepts connections.
func (p *Postgres) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.Port, p.dir)
	return p.run("pg_ctl", "start", "-w", "-t", "30", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-o", opts)
}

// Stop stops the server at once, closing every connection.
func (p *Postgres) Stop() error {
	return p.run("pg_ctl", "stop", "-w", "-D", p.data(), "-m", "fast")
}

// Remove stops the server if it runs and deletes the cluster.
func (p *Postgres) Remove() {
	p.run("pg_ctl", "stop", "-w", "-D", p.data(), "-m", "immediate")
	os.RemoveAll(p.dir)
}
