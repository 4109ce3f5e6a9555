package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/seal"
)

const devKEKWarning = "for development only"

// writeKEK writes a new key-encryption key to a file and returns its path.
func writeKEK(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(seal.NewKEK()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSigningKeysCLI drives "tokend signing-keys" against a real server
// that generated its development KEK, and restarts it.
func TestSigningKeysCLI(t *testing.T) {
	dir := t.TempDir()
	url, admin, logs, stop := startServe(t, dir)
	if !strings.Contains(logs.String(), devKEKWarning) {
		t.Errorf("no development-KEK warning at the first start: %s", logs)
	}
	st, err := os.Stat(filepath.Join(dir, "kek"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated kek: %v, mode %v", err, st.Mode())
	}
	var l api.SigningKeyList
	mustJSON(t, cli(t, url, admin, 0, "signing-keys", "list", "--json"), &l)
	// ES256 signs access tokens; an RS256 key beside it signs ID tokens
	// (OpenID Connect requires RS256).
	if len(l.Keys) != 2 || l.Keys[0].State != "active" || l.Keys[1].State != "active" || l.Keys[0].Alg == l.Keys[1].Alg ||
		!slices.ContainsFunc(l.Keys, func(k api.SigningKey) bool { return k.Alg == "ES256" }) ||
		!slices.ContainsFunc(l.Keys, func(k api.SigningKey) bool { return k.Alg == "RS256" }) {
		t.Fatalf("signing-keys list = %+v", l)
	}
	out := cli(t, url, admin, 0, "signing-keys", "rotate")
	if !strings.Contains(out, "pending") {
		t.Errorf("signing-keys rotate: %s", out)
	}
	if out := cli(t, url, admin, 0, "signing-keys", "list"); strings.Count(out, "ES256") != 2 || strings.Count(out, "RS256") != 2 || !strings.Contains(out, "KID") {
		t.Errorf("signing-keys list: %s", out)
	}
	res, err := http.Get(url + "/oauth2/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 4 || bytes.Contains(body, []byte(`"d"`)) {
		t.Errorf("JWKS = %s (%v)", body, err)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	// A restart warns again and decrypts the keys with the same file.
	url, _, logs, stop = startServe(t, dir)
	if !strings.Contains(logs.String(), devKEKWarning) {
		t.Errorf("no development-KEK warning at the second start: %s", logs)
	}
	mustJSON(t, cli(t, url, admin, 0, "signing-keys", "list", "--json"), &l)
	if len(l.Keys) != 4 {
		t.Errorf("after restart: %+v", l)
	}
	stop()

	// The wrong KEK is refused at start, clearly.
	var errb bytes.Buffer
	code := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--kek-file", writeKEK(t)},
		strings.NewReader(""), io.Discard, &errb, func(string) string { return "" })
	if code == 0 || !strings.Contains(errb.String(), "does not decrypt with this key-encryption key") {
		t.Errorf("serve with the wrong KEK: exit %d, %s", code, errb.String())
	}
}

func TestKEKSources(t *testing.T) {
	kekFile := writeKEK(t)
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // empty: starts
	}{
		{"kek file", []string{"--kek-file", kekFile}, nil, ""},
		{"bad TOKEND_KEK", nil, map[string]string{"TOKEND_KEK": "c2hvcnQ="}, "TOKEND_KEK: key-encryption key has 5 bytes"},
		{"missing kek file", []string{"--kek-file", "/nonexistent/kek"}, nil, "read --kek-file"},
		{"PostgreSQL without a KEK", []string{"--database", "postgres://127.0.0.1:1/none", "--issuer", "http://t"}, nil, "PostgreSQL needs a key-encryption key"},
		{"bad algorithm", []string{"--kek-file", kekFile, "--signing-alg", "HS256"}, nil, `--signing-alg "HS256"`},
		{"lead too short", []string{"--kek-file", kekFile, "--signing-key-lead", "10s"}, nil, "lead time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.wantErr == "" {
				url, admin, logs, _ := startServe(t, dir, tc.args...)
				if strings.Contains(logs.String(), devKEKWarning) {
					t.Errorf("development warning with a configured KEK")
				}
				cli(t, url, admin, 0, "signing-keys", "list")
				if _, err := os.Stat(filepath.Join(dir, "kek")); err == nil {
					t.Error("a kek file was generated although one was configured")
				}
				return
			}
			var errb bytes.Buffer
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, tc.args...)
			code := run(t.Context(), args, strings.NewReader(""), io.Discard, &errb, func(k string) string { return tc.env[k] })
			if code == 0 || !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("serve: exit %d, stderr %q; want an error with %q", code, errb.String(), tc.wantErr)
			}
		})
	}
}

// TestKEKFromEnv checks that $TOKEND_KEK is read, and wins over the
// generated development key.
func TestKEKFromEnv(t *testing.T) {
	dir := t.TempDir()
	var errb bytes.Buffer
	kek := seal.NewKEK()
	code := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--signing-key-lead", "1s"},
		strings.NewReader(""), io.Discard, &errb, func(k string) string { return map[string]string{"TOKEND_KEK": kek}[k] })
	if code == 0 || !strings.Contains(errb.String(), "lead time") {
		t.Fatalf("serve: exit %d, %s", code, errb.String())
	}
	var logs bytes.Buffer
	cfg := serveConfig{dataDir: dir, signing: signingConfig{kekEnv: kek}}
	got, err := cfg.signing.kek(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	want, _ := seal.ParseKEK(kek)
	if err != nil || !bytes.Equal(got, want) || logs.Len() != 0 {
		t.Errorf("kek from $TOKEND_KEK = %x, %v (logs %q); want %x", got, err, logs.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "kek")); err == nil {
		t.Error("a kek file was generated although $TOKEND_KEK was set")
	}
}

func TestIssuerURL(t *testing.T) {
	for _, tc := range []struct {
		cfg  serveConfig
		want string
	}{
		{serveConfig{addr: "127.0.0.1:8080"}, "http://127.0.0.1:8080"},
		{serveConfig{addr: ":8080"}, "http://localhost:8080"},
		{serveConfig{addr: "0.0.0.0:443", tlsCert: "c"}, "https://localhost:443"},
		{serveConfig{addr: "[::1]:8080"}, "http://[::1]:8080"},
		{serveConfig{addr: ":1", signing: signingConfig{issuer: "https://auth.example"}}, "https://auth.example"},
	} {
		if got := tc.cfg.signing.issuerURL(tc.cfg); got != tc.want {
			t.Errorf("issuerURL(%q) = %q, want %q", tc.cfg.addr, got, tc.want)
		}
	}
}
