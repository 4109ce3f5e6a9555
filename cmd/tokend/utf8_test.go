package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send makes one JSON request and returns the status and body.
func send(t *testing.T, method, url, bearer, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// jwksWithKid is a valid public EC key set whose kid is kid.
func jwksWithKid(t *testing.T, kid string) string {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pt := k.PublicKey().Bytes() // 0x04 || x || y
	b64 := base64.RawURLEncoding.EncodeToString
	return `{"keys":[{"kty":"EC","crv":"P-256","x":"` + b64(pt[1:33]) + `","y":"` + b64(pt[33:]) +
		`","kid":"` + kid + `","use":"sig","alg":"ES256"}]}`
}

// TestInvalidUTF8IsRefusedOnBothDatabases is the L8 regression: invalid
// UTF-8 inside raw JSON fields (key metadata, client jwks, including
// through open DCR) was stored and echoed as invalid JSON on SQLite and
// answered 500 on PostgreSQL. Every such body is now a 400 that changes
// nothing, on both databases, while valid non-ASCII text still passes.
func TestInvalidUTF8IsRefusedOnBothDatabases(t *testing.T) {
	backends := map[string]func(t *testing.T) []string{
		"sqlite": func(t *testing.T) []string { return nil },
		"postgres": func(t *testing.T) []string {
			return []string{"--database", postgresDSN(t), "--kek-file", writeKEK(t), "--issuer", "http://tokend.test"}
		},
	}
	for name, flags := range backends {
		t.Run(name, func(t *testing.T) {
			url, admin, _, _ := startServe(t, t.TempDir(), append(flags(t), "--dcr")...)
			code, body := send(t, "POST", url+"/v1/apis", admin,
				`{"name":"Pay","audience":"https://pay.example","scopes":["a"],"key_prefix":"pay"}`)
			var a struct{ ID string }
			if json.Unmarshal([]byte(body), &a); code != 201 {
				t.Fatalf("create API: %d %s", code, body)
			}
			code, body = send(t, "POST", url+"/v1/keys", admin, `{"api_id":"`+a.ID+`","subject":"s","metadata":{"name":"Zoë"}}`)
			var k struct{ Key struct{ ID string } }
			if json.Unmarshal([]byte(body), &k); code != 201 {
				t.Fatalf("valid UTF-8 metadata refused: %d %s", code, body)
			}
			code, body = send(t, "POST", url+"/v1/clients", admin, `{"name":"c","api_scopes":{"`+a.ID+`":["a"]}}`)
			var c struct{ Client struct{ ID string } }
			if json.Unmarshal([]byte(body), &c); code != 201 {
				t.Fatalf("create client: %d %s", code, body)
			}
			_, before := send(t, "GET", url+"/v1/keys?api_id="+a.ID, admin, "")
			_, beforeClients := send(t, "GET", url+"/v1/clients", admin, "")
			tests := []struct{ name, method, path, bearer, body string }{
				{"key metadata", "POST", "/v1/keys", admin, `{"api_id":"` + a.ID + `","subject":"u8","metadata":{"a":"` + "\xff\xfe" + ` bad"}}`},
				{"key metadata in PATCH", "PATCH", "/v1/keys/" + k.Key.ID, admin, `{"metadata":{"a":"` + "\xc3" + `"}}`},
				{"a subject", "POST", "/v1/keys", admin, `{"api_id":"` + a.ID + `","subject":"` + "\xed\xa0\x80" + `"}`},
				{"client jwks", "POST", "/v1/clients", admin, `{"name":"j","api_scopes":{"` + a.ID + `":["a"]},` +
					`"token_endpoint_auth_method":"private_key_jwt","jwks":` + jwksWithKid(t, "k\xff") + `}`},
				{"client name in PATCH", "PATCH", "/v1/clients/" + c.Client.ID, admin, `{"name":"` + "\x80" + `"}`},
				{"DCR client_name", "POST", "/oauth2/register", "", `{"client_name":"` + "\xff" + `","tokend_api_scopes":{"` + a.ID + `":["a"]}}`},
				{"DCR jwks", "POST", "/oauth2/register", "", `{"client_name":"d","token_endpoint_auth_method":"private_key_jwt",` +
					`"tokend_api_scopes":{"` + a.ID + `":["a"]},"jwks":` + jwksWithKid(t, "\xfe") + `}`},
			}
			for _, tt := range tests {
				if code, body := send(t, tt.method, url+tt.path, tt.bearer, tt.body); code != 400 {
					t.Errorf("%s: %d %s, want 400", tt.name, code, body)
				}
			}
			if _, after := send(t, "GET", url+"/v1/keys?api_id="+a.ID, admin, ""); after != before {
				t.Errorf("keys changed:\n%s\n%s", before, after)
			}
			if _, after := send(t, "GET", url+"/v1/clients", admin, ""); after != beforeClients {
				t.Errorf("clients changed:\n%s\n%s", beforeClients, after)
			}
		})
	}
}
