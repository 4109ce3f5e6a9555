package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// adminKeyFrom creates an admin key that only authenticates from cidr.
func adminKeyFrom(t *testing.T, url, admin, cidr string) string {
	t.Helper()
	body := `{"api_id":"api_tokend","subject":"proxied","scopes":["tokend:admin"],"allowed_cidrs":["` + cidr + `"]}`
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url+"/v1/keys", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k api.CreatedKey
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create admin key: %d %v", resp.StatusCode, err)
	}
	return k.Secret
}

func getAPIs(t *testing.T, url, key, xff string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/v1/apis", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTrustedProxiesNameTheClient checks --trusted-proxies end to end: the
// IP allowlist of an admin key and the access log see the address the
// trusted proxy forwarded, and the header is ignored when the peer is not
// trusted (the default).
func TestTrustedProxiesNameTheClient(t *testing.T) {
	tests := []struct {
		name       string
		flags      []string
		xff        string
		wantStatus int
		wantRemote string
	}{
		{"trusted loopback proxy forwards the client", []string{"--trusted-proxies", "127.0.0.0/8"},
			"198.51.100.1, 203.0.113.7", 200, `"remote":"203.0.113.7"`},
		{"the client cannot skip the proxy's entry", []string{"--trusted-proxies", "127.0.0.1"},
			"203.0.113.7, 198.51.100.1", 401, `"remote":"198.51.100.1"`},
		{"no trusted proxies: header ignored", nil, "203.0.113.7", 401, `"remote":"127.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, admin, logs, _ := startServe(t, t.TempDir(), tt.flags...)
			key := adminKeyFrom(t, url, admin, "203.0.113.7/32")
			if got := getAPIs(t, url, key, tt.xff); got != tt.wantStatus {
				t.Errorf("GET /v1/apis with X-Forwarded-For %q: %d, want %d", tt.xff, got, tt.wantStatus)
			}
			if !strings.Contains(logs.String(), tt.wantRemote) {
				t.Errorf("the access log lacks %s", tt.wantRemote)
			}
		})
	}
}

func TestTrustedProxiesRefusesBadCIDR(t *testing.T) {
	var out, errb strings.Builder
	env := map[string]string{"TOKEND_TRUSTED_PROXIES": "10.0.0.0/99"}
	code := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()},
		strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	if code != 2 || !strings.Contains(errb.String(), "TRUSTED_PROXIES") {
		t.Errorf("exit %d, want 2 naming the variable; stderr: %s", code, errb.String())
	}
}
