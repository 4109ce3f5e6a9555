package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listeningFingerprint returns the tls_sha256 of the "listening" log line.
func listeningFingerprint(t *testing.T, logs string) string {
	t.Helper()
	for line := range strings.SplitSeq(logs, "\n") {
		var l struct {
			Msg       string
			TLSSHA256 string `json:"tls_sha256"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
			return l.TLSSHA256
		}
	}
	t.Fatal("no listening line")
	return ""
}

func certPool(t *testing.T, certFile string) (*x509.CertPool, string) {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no certificate in " + certFile)
	}
	blk, _ := pem.Decode(b)
	sum := sha256.Sum256(blk.Bytes)
	return pool, strings.ToUpper(hex.EncodeToString(sum[:]))
}

// TestTLSSelfSignedAndHardened starts "serve --tls-self-signed" and talks
// to it with real TLS clients (I6): the certificate written to the data
// directory verifies for 127.0.0.1 and its SHA-256 fingerprint is
// printed; TLS 1.1 and CBC suites are refused, TLS 1.2 with AEAD and TLS
// 1.3 work; answers carry HSTS; a restart reuses the certificate.
func TestTLSSelfSignedAndHardened(t *testing.T) {
	dir := t.TempDir()
	url, _, logs, stop := startServe(t, dir, "--tls-self-signed")
	certFile := filepath.Join(dir, "tls-dev-cert.pem")
	pool, sum := certPool(t, certFile)
	fp := listeningFingerprint(t, logs.String())
	if strings.ReplaceAll(fp, ":", "") != sum {
		t.Errorf("logged fingerprint %s, certificate's SHA-256 %s", fp, sum)
	}
	if st, err := os.Stat(filepath.Join(dir, "tls-dev-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", st, err)
	}
	tests := []struct {
		name   string
		config *tls.Config
		ok     bool
	}{
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.2 AEAD", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true},
		{"TLS 1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, false},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, tt := range tests {
		tt.config.RootCAs = pool
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tt.config}}
		resp, err := c.Get(url + "/healthz")
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want success %v", tt.name, err, tt.ok)
		}
		if err != nil {
			continue
		}
		resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
			t.Errorf("%s: Strict-Transport-Security %q", tt.name, hsts)
		}
	}
	stop()
	_, _, logs2, _ := startServe(t, dir, "--tls-self-signed")
	if again := listeningFingerprint(t, logs2.String()); again != fp {
		t.Errorf("restart: fingerprint %s, want the same certificate %s", again, fp)
	}
}
