package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

var adminActor = audit.Actor{ID: "test"}

func problemCode(err error) string {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Code()
	}
	return ""
}

// raw sends a request with the admin key unless auth is set.
func (f *fixture) raw(t *testing.T, method, path, ctype, body, auth string) (*http.Response, api.Problem) {
	t.Helper()
	resp, p, _ := f.rawBody(t, method, path, ctype, body, auth)
	return resp, p
}

func (f *fixture) rawBody(t *testing.T, method, path, ctype, body, auth string) (*http.Response, api.Problem, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth == "" {
		auth = "Bearer " + f.AdminKey
	}
	if auth != "none" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p api.Problem
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: content type %q, want application/problem+json", method, path, ct)
		}
		if err := json.Unmarshal(b, &p); err != nil || p.Type == "" || p.Title == "" || p.Status != resp.StatusCode {
			t.Errorf("%s %s: problem %s (%v)", method, path, b, err)
		}
	}
	return resp, p, string(b)
}

// state is what a refused request must leave unchanged.
func (f *fixture) state(t *testing.T) string {
	t.Helper()
	evs, err := f.DB.ListEvents(t.Context(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := f.DB.ListKeys(t.Context(), store.KeyFilter{Limit: 1000})
	as, _ := f.DB.ListAPIs(t.Context())
	b, _ := json.Marshal([]any{len(evs), ks, as})
	return string(b)
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{})
	keyBody := func(extra string) string {
		return `{"api_id":"` + f.api.ID + `","subject":"s"` + extra + `}`
	}
	cases := []struct {
		name, method, path, ctype, body, auth string
		status                                int
		code                                  string
	}{
		{"malformed json", "POST", "/v1/keys", "application/json", `{"api_id":`, "", 400, api.ErrBadRequest},
		{"trailing data", "POST", "/v1/keys", "application/json", keyBody("") + `{}`, "", 400, api.ErrBadRequest},
		{"unknown field", "POST", "/v1/keys", "application/json", keyBody(`,"owner":"x"`), "", 400, api.ErrBadRequest},
		{"wrong type", "POST", "/v1/keys", "application/json", keyBody(`,"scopes":"read"`), "", 400, api.ErrBadRequest},
		{"wrong duration type", "POST", "/v1/keys", "application/json", keyBody(`,"ttl":3600`), "", 400, api.ErrBadRequest},
		{"bad duration", "POST", "/v1/keys", "application/json", keyBody(`,"ttl":"forever"`), "", 400, api.ErrBadRequest},
		{"oversized", "POST", "/v1/keys", "application/json", keyBody(`,"name":"` + strings.Repeat("x", 1<<20) + `"`), "", 413, api.ErrBodyTooLarge},
		{"form body", "POST", "/v1/keys", "application/x-www-form-urlencoded", "api_id=x", "", 415, api.ErrUnsupportedMedia},
		{"undefined scope", "POST", "/v1/keys", "application/json", keyBody(`,"scopes":["admin"]`), "", 400, api.ErrInvalidField},
		{"bad scope chars", "POST", "/v1/apis", "application/json", `{"name":"x","audience":"a","key_prefix":"ab","scopes":["a b"]}`, "", 400, api.ErrInvalidField},
		{"bad cidr", "POST", "/v1/keys", "application/json", keyBody(`,"allowed_cidrs":["10.0.0.0/33"]`), "", 400, api.ErrInvalidField},
		{"bad prefix", "POST", "/v1/apis", "application/json", `{"name":"x","audience":"a","key_prefix":"Sk-Live"}`, "", 400, api.ErrInvalidField},
		{"long prefix", "POST", "/v1/apis", "application/json", `{"name":"x","audience":"a","key_prefix":"abcdefghijklmnopq"}`, "", 400, api.ErrInvalidField},
		{"reserved prefix", "POST", "/v1/apis", "application/json", `{"name":"x","audience":"a","key_prefix":"tokend"}`, "", 400, api.ErrInvalidField},
		{"duplicate prefix", "POST", "/v1/apis", "application/json", `{"name":"x","audience":"b","key_prefix":"pay"}`, "", 409, api.ErrConflict},
		{"negative ttl", "POST", "/v1/keys", "application/json", keyBody(`,"ttl":"-1h"`), "", 400, api.ErrInvalidField},
		{"past expiry", "POST", "/v1/keys", "application/json", keyBody(`,"expires_at":"2000-01-01T00:00:00Z"`), "", 400, api.ErrInvalidField},
		{"ttl and expiry", "POST", "/v1/keys", "application/json", keyBody(`,"ttl":"1h","expires_at":"2099-01-01T00:00:00Z"`), "", 400, api.ErrInvalidField},
		{"bad limit", "POST", "/v1/keys", "application/json", keyBody(`,"ratelimits":[{"name":"m","limit":0,"window":"1m"}]`), "", 400, api.ErrInvalidField},
		{"metadata array", "POST", "/v1/keys", "application/json", keyBody(`,"metadata":[1]`), "", 400, api.ErrInvalidField},
		{"metadata too big", "POST", "/v1/keys", "application/json", keyBody(`,"metadata":{"a":"` + strings.Repeat("x", 9000) + `"}`), "", 400, api.ErrInvalidField},
		{"unknown api", "POST", "/v1/keys", "application/json", `{"api_id":"api_nope","subject":"s"}`, "", 400, api.ErrInvalidField},
		{"missing subject", "POST", "/v1/keys", "application/json", `{"api_id":"` + f.api.ID + `"}`, "", 400, api.ErrInvalidField},
		{"bad client ip", "POST", "/v1/verify", "application/json", `{"token":"x","client_ip":"10.0.0.300"}`, "", 400, api.ErrInvalidField},
		{"negative cost", "POST", "/v1/verify", "application/json", `{"token":"x","cost":-1}`, "", 400, api.ErrInvalidField},
		{"no token", "POST", "/v1/verify", "application/json", `{}`, "", 400, api.ErrInvalidField},
		{"no admin key", "GET", "/v1/keys", "", "", "none", 401, api.ErrUnauthorized},
		{"wrong admin key", "GET", "/v1/keys", "", "", "Bearer tokend_" + strings.Repeat("A", 49), 401, api.ErrUnauthorized},
		{"customer key as admin", "GET", "/v1/keys", "", "", "Bearer " + k.Secret, 401, api.ErrUnauthorized},
		{"basic auth", "GET", "/v1/keys", "", "", "Basic YTpi", 401, api.ErrUnauthorized},
		{"token in query", "GET", "/v1/keys?cursor=" + k.Secret, "", "", "", 400, api.ErrTokenInURL},
		{"access_token param", "GET", "/v1/keys?access_token=abc", "", "", "", 400, api.ErrTokenInURL},
		{"bad limit param", "GET", "/v1/keys?limit=0", "", "", "", 400, api.ErrInvalidField},
		{"unknown key", "GET", "/v1/keys/key_nope", "", "", "", 404, api.ErrNotFound},
		{"unknown route", "GET", "/v1/nope", "", "", "", 404, api.ErrNotFound},
		{"wrong method", "PUT", "/v1/keys", "", "", "", 405, api.ErrMethodNotAllowed},
		{"delete system api", "DELETE", "/v1/apis/api_tokend", "", "", "", 409, api.ErrConflict},
		{"delete api with live keys", "DELETE", "/v1/apis/" + f.api.ID, "", "", "", 409, api.ErrConflict},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.state(t)
			resp, p := f.raw(t, c.method, c.path, c.ctype, c.body, c.auth)
			if resp.StatusCode != c.status || p.Code() != c.code {
				t.Errorf("status %d %q, want %d %q (%s)", resp.StatusCode, p.Code(), c.status, c.code, p.Detail)
			}
			// RFC 6750 §3.1: no error code without a credential.
			challenge := `Bearer realm="tokend", error="invalid_token"`
			if c.auth == "none" || strings.HasPrefix(c.auth, "Basic ") {
				challenge = `Bearer realm="tokend"`
			}
			if c.status == 401 && resp.Header.Get("WWW-Authenticate") != challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", resp.Header.Get("WWW-Authenticate"), challenge)
			}
			if after := f.state(t); after != before {
				t.Errorf("a refused request changed state:\nbefore %s\nafter  %s", before, after)
			}
			if strings.Contains(p.Detail, k.Secret) || strings.Contains(p.Detail, f.AdminKey) {
				t.Errorf("problem detail holds a secret: %s", p.Detail)
			}
		})
	}
}

func TestInsufficientScope(t *testing.T) {
	f := newFixture(t)
	_, vkey, _ := f.Keys.CreateAdminKey(t.Context(), adminActor, "verifier", []string{"tokend:verify"})
	resp, p := f.raw(t, "POST", "/v1/apis", "application/json", `{}`, "Bearer "+vkey)
	if resp.StatusCode != 403 || p.Code() != api.ErrInsufficientScope {
		t.Fatalf("status %d %s", resp.StatusCode, p.Code())
	}
	want := `Bearer realm="tokend", error="insufficient_scope", scope="tokend:admin"`
	if got := resp.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

// TestNoSecretLeaks runs create, verify, rotate and revoke, then searches
// every log line, the database file and every answer but the creating
// one for the secrets.
func TestNoSecretLeaks(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.key(t, api.CreateKeyRequest{})
	f.verify(t, api.VerifyRequest{Token: k.Secret})
	rot, err := f.Client.RotateKey(ctx, k.Key.ID, api.RotateKeyRequest{Grace: api.Duration(60e9)})
	if err != nil {
		t.Fatal(err)
	}
	f.verify(t, api.VerifyRequest{Token: rot.Secret})
	f.Client.RevokeKey(ctx, k.Key.ID)
	f.verify(t, api.VerifyRequest{Token: rot.Secret})
	f.raw(t, "GET", "/v1/keys?token="+rot.Secret, "", "", "")     // refused, must not be logged
	f.raw(t, "GET", "/v1/keys", "", "", "Bearer "+rot.Secret+"x") // bad credential, must not be logged
	if err := f.Engine.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ks, _ := f.Client.ListKeys(ctx, clientList(f.api.ID))
	events, _ := f.Client.ListAudit(ctx, auditAll())
	listing, _ := json.Marshal([]any{ks, events})
	f.DB.Close() // checkpoint the WAL into the main file
	dbBytes := readAll(t, f.DBPath, f.DBPath+"-wal")
	for _, secret := range []string{k.Secret, rot.Secret, f.AdminKey} {
		body := secret[strings.LastIndexByte(secret[:len(secret)-49], '_')+1:] // the random part alone
		for where, text := range map[string][]byte{"logs": []byte(f.Logs.String()), "database": dbBytes, "listings": listing} {
			if bytes.Contains(text, []byte(body)) {
				t.Errorf("the secret %s…%s appears in the %s", secret[:8], secret[len(secret)-4:], where)
			}
		}
	}
	if !strings.Contains(f.Logs.String(), `"path":"/v1/verify"`) {
		t.Error("the access log is missing; the search above proves nothing")
	}
}
