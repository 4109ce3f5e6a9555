package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/tokend/tokend/api"
)

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	url, admin, _, _ := startServe(t, dir, "--tls-cert", cert, "--tls-key", key)
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(b)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS: %d, tls %v", resp.StatusCode, resp.TLS != nil)
	}
	if admin == "" {
		t.Error("no admin key printed")
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(k)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// postgresDSN returns a DSN on a fresh schema of TOKEND_TEST_POSTGRES,
// dropped when t ends, or skips.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TOKEND_TEST_POSTGRES")
	if base == "" {
		t.Skip("TOKEND_TEST_POSTGRES is not set; skipping the PostgreSQL run")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "t_e2e_" + strings.ToLower(rand.Text()[:10])
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func TestServePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	kek := writeKEK(t) // PostgreSQL needs a KEK shared by every start
	url, admin, logs, stop := startServe(t, t.TempDir(), "--database", dsn, "--kek-file", kek, "--issuer", "http://tokend.test")
	if !strings.Contains(logs.String(), `"mode":"PostgreSQL`) {
		t.Errorf("serve did not say it runs on PostgreSQL: %s", logs)
	}
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "Pay", "--audience", "https://pay.example",
		"--key-prefix", "pay"), &a)
	var k api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", a.ID, "--subject", "c", "--credits", "1"), &k)
	var r api.VerifyResponse
	mustJSON(t, cli(t, url, admin, 0, "keys", "verify", "--json", k.Secret), &r)
	if r.Code != api.CodeValid || r.Credits == nil || r.Credits.Remaining != 0 {
		t.Errorf("verify on PostgreSQL = %+v", r)
	}
	mustJSON(t, cli(t, url, admin, exitRefused, "keys", "verify", "--json", k.Secret), &r)
	if r.Code != api.CodeUsageExceeded {
		t.Errorf("second verify = %s", r.Code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("shutdown exit %d", code)
	}
	key2 := strings.TrimSpace(cli(t, "", "", 0, "admin-key", "create", "--database", dsn))
	url, again, _, _ := startServe(t, t.TempDir(), "--database", dsn, "--kek-file", kek, "--issuer", "http://tokend.test")
	if again != "" {
		t.Error("a restart on the same database printed another admin key")
	}
	var list api.APIList
	mustJSON(t, cli(t, url, key2, 0, "apis", "list", "--json"), &list)
	if len(list.APIs) != 2 {
		t.Errorf("after restart: %d APIs, want 2", len(list.APIs))
	}
}

func TestServeRefusesBadSettings(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"bad env duration":       {nil, map[string]string{"TOKEND_CACHE_TTL": "banana"}},
		"bad env number":         {nil, map[string]string{"TOKEND_CACHE_SIZE": "many"}},
		"cert without key":       {[]string{"--tls-cert", "x.pem"}, nil},
		"self-signed and a cert": {[]string{"--tls-self-signed", "--tls-cert", "x.pem", "--tls-key", "y.pem"}, nil},
		"unknown flag":           {[]string{"--no-such-flag"}, nil},
		"bad log level":          {[]string{"--log-level", "loud"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, c.args...)
			var out, errb strings.Builder
			code := run(t.Context(), args, strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, errb.String())
			}
		})
	}
}

func TestServeEnvFallback(t *testing.T) {
	// A flag overrides its variable: the bad TOKEND_LOG_LEVEL is never
	// read because --log-level is given. The context is already done, so
	// the server stops as soon as it has started.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errb strings.Builder
	env := map[string]string{"TOKEND_LOG_LEVEL": "loud", "TOKEND_ADDR": "127.0.0.1:0"}
	code := run(ctx, []string{"serve", "--data-dir", t.TempDir(), "--log-level", "info"},
		strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	if code == 2 || strings.Contains(errb.String(), "log-level") {
		t.Errorf("exit %d: the flag did not override the environment: %s", code, errb.String())
	}
}

// TestPostgresNodeNeedsIssuer is the I8 regression: each node's default
// issuer was its own address, so a JWT from node A was NOT_FOUND on node
// B. A node on PostgreSQL refuses to start without --issuer, saying so,
// before it connects to anything.
func TestPostgresNodeNeedsIssuer(t *testing.T) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database", "postgres://127.0.0.1:1/none", "--kek-file", writeKEK(t)}
	var out, errb strings.Builder
	code := run(t.Context(), args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	if code != 2 || !strings.Contains(errb.String(), "--issuer") || !strings.Contains(errb.String(), "every node") {
		t.Errorf("exit %d, stderr %q; want 2 and a message asking for one --issuer on every node", code, errb.String())
	}
}

// TestRedisClientLogsThroughSlog is the I12 regression: go-redis wrote its
// own plain-text lines to standard error, outside the JSON log and its
// level. With Redis unreachable, its dial failures must appear as JSON log
// lines of tokend's logger, without the URL's password.
func TestRedisClientLogsThroughSlog(t *testing.T) {
	dsn := postgresDSN(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, _, logs, _ := startServe(t, t.TempDir(), "--database", dsn, "--kek-file", writeKEK(t), "--issuer", "http://tokend.test",
		"--redis", "redis://:hunter2secret@"+dead+"/0")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"redis client"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no go-redis line in the JSON log:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "hunter2secret") {
		t.Error("the Redis password reached the log")
	}
}
