package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFarExpiryOnBothDatabases checks L2 end to end on each store: a key
// expiring at the 9999-12-31 "never" sentinel verifies VALID and reports
// that expiry, on SQLite and on PostgreSQL.
func TestFarExpiryOnBothDatabases(t *testing.T) {
	backends := map[string]func(t *testing.T) []string{
		"sqlite": func(t *testing.T) []string { return nil },
		"postgres": func(t *testing.T) []string {
			return []string{"--database", postgresDSN(t), "--kek-file", writeKEK(t), "--issuer", "http://tokend.test"}
		},
	}
	for name, flags := range backends {
		t.Run(name, func(t *testing.T) {
			url, admin, _, _ := startServe(t, t.TempDir(), flags(t)...)
			code, body := send(t, "POST", url+"/v1/apis", admin, `{"name":"Pay","audience":"https://pay.example","key_prefix":"pay"}`)
			var a struct{ ID string }
			if json.Unmarshal([]byte(body), &a); code != 201 {
				t.Fatalf("create API: %d %s", code, body)
			}
			code, body = send(t, "POST", url+"/v1/keys", admin, `{"api_id":"`+a.ID+`","subject":"s","expires_at":"9999-12-31T23:59:59Z"}`)
			var k struct{ Secret string }
			if json.Unmarshal([]byte(body), &k); code != 201 {
				t.Fatalf("create key: %d %s", code, body)
			}
			code, body = send(t, "POST", url+"/v1/verify", admin, `{"token":"`+k.Secret+`","audience":"https://pay.example"}`)
			if code != 200 || !strings.Contains(body, `"code":"VALID"`) || !strings.Contains(body, `"expires_at":"9999-12-31T23:59:59Z"`) {
				t.Errorf("verify: %d %s; want VALID expiring 9999-12-31T23:59:59Z", code, body)
			}
		})
	}
}
