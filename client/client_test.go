package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

const testToken = "tok_admin_s3cr3t"

// seen is what the fake server received.
type seen struct {
	method, path, rawPath, query string
	header                       http.Header
	body                         string
}

// fakeServer answers every request with status and body, recording it.
func fakeServer(t testing.TB, status int, contentType, body string) (*Client, *seen) {
	t.Helper()
	got := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(b)}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL + "/", Token: testToken, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c, got
}

func TestEndpoints(t *testing.T) {
	ctx := context.Background()
	week := api.Duration(168 * time.Hour)
	name := "renamed"
	tests := []struct {
		name     string
		call     func(*Client) (any, error)
		status   int
		answer   string
		method   string
		path     string // escaped
		query    string
		body     string // "" means no body
		wantJSON string // the decoded answer, re-encoded
	}{
		{"CreateAPI", func(c *Client) (any, error) {
			return c.CreateAPI(ctx, api.CreateAPIRequest{Name: "b", Audience: "aud", Scopes: []string{"r"}, KeyPrefix: "p"})
		}, 201, `{"id":"api_1","name":"b"}`, "POST", "/v1/apis", "",
			`{"name":"b","audience":"aud","scopes":["r"],"key_prefix":"p","policy":{}}`, ""},
		{"ListAPIs", func(c *Client) (any, error) { return c.ListAPIs(ctx) },
			200, `{"apis":[{"id":"api_1"}]}`, "GET", "/v1/apis", "", "", ""},
		{"GetAPI escapes", func(c *Client) (any, error) { return c.GetAPI(ctx, "a/b c") },
			200, `{"id":"a/b c"}`, "GET", "/v1/apis/a%2Fb%20c", "", "", ""},
		{"UpdateAPI", func(c *Client) (any, error) {
			return c.UpdateAPI(ctx, "api_1", api.UpdateAPIRequest{Name: &name})
		}, 200, `{"id":"api_1"}`, "PATCH", "/v1/apis/api_1", "", `{"name":"renamed"}`, ""},
		{"DeleteAPI", func(c *Client) (any, error) { return nil, c.DeleteAPI(ctx, "api_1") },
			204, ``, "DELETE", "/v1/apis/api_1", "", "", ""},
		{"CreateKey", func(c *Client) (any, error) {
			return c.CreateKey(ctx, api.CreateKeyRequest{APIID: "api_1", Subject: "u", TTL: &week})
		}, 201, `{"key":{"id":"key_1"},"secret":"p_key_1_xyz"}`, "POST", "/v1/keys", "",
			`{"api_id":"api_1","subject":"u","ttl":"168h0m0s"}`, ""},
		{"ListKeys", func(c *Client) (any, error) {
			return c.ListKeys(ctx, ListKeysOptions{APIID: "api_1", Subject: "a&b", Cursor: "c1", Limit: 5})
		}, 200, `{"keys":[],"next_cursor":"c2"}`, "GET", "/v1/keys",
			"api_id=api_1&cursor=c1&limit=5&subject=a%26b", "", ""},
		{"ListKeys no filter", func(c *Client) (any, error) { return c.ListKeys(ctx, ListKeysOptions{}) },
			200, `{"keys":[]}`, "GET", "/v1/keys", "", "", ""},
		{"GetKey", func(c *Client) (any, error) { return c.GetKey(ctx, "key_1") },
			200, `{"id":"key_1"}`, "GET", "/v1/keys/key_1", "", "", ""},
		{"UpdateKey clears", func(c *Client) (any, error) {
			return c.UpdateKey(ctx, "key_1", api.UpdateKeyRequest{ExpiresAt: api.Null[time.Time]()})
		}, 200, `{"id":"key_1"}`, "PATCH", "/v1/keys/key_1", "", `{"expires_at":null}`, ""},
		{"RotateKey", func(c *Client) (any, error) {
			return c.RotateKey(ctx, "key_1", api.RotateKeyRequest{Grace: api.Duration(time.Hour)})
		}, 200, `{"key":{"id":"key_1"},"secret":"s"}`, "POST", "/v1/keys/key_1/rotate", "", `{"grace":"1h0m0s"}`, ""},
		{"RevokeKey", func(c *Client) (any, error) { return c.RevokeKey(ctx, "key_1") },
			200, `{"id":"key_1"}`, "POST", "/v1/keys/key_1/revoke", "", `{}`, ""},
		{"Verify", func(c *Client) (any, error) {
			return c.Verify(ctx, api.VerifyRequest{Token: "p_k_s", Audience: "aud"})
		}, 200, `{"valid":false,"code":"EXPIRED"}`, "POST", "/v1/verify", "",
			`{"token":"p_k_s","audience":"aud"}`, `{"valid":false,"code":"EXPIRED"}`},
		{"ListAudit", func(c *Client) (any, error) {
			return c.ListAudit(ctx, AuditFilter{Action: "x", TargetID: "key_1",
				Since: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Limit: 10})
		}, 200, `{"events":[]}`, "GET", "/v1/audit",
			"action=x&limit=10&since=2025-01-02T03%3A04%3A05Z&target_id=key_1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got := fakeServer(t, tt.status, "application/json", tt.answer)
			res, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if got.method != tt.method || got.rawPath != tt.path || got.query != tt.query {
				t.Errorf("request = %s %s?%s, want %s %s?%s", got.method, got.rawPath, got.query, tt.method, tt.path, tt.query)
			}
			if got.body != tt.body {
				t.Errorf("body = %s, want %s", got.body, tt.body)
			}
			checkHeaders(t, got.header, tt.body != "")
			if tt.wantJSON != "" {
				b, _ := json.Marshal(res)
				if string(b) != tt.wantJSON {
					t.Errorf("answer = %s, want %s", b, tt.wantJSON)
				}
			}
		})
	}
}

func checkHeaders(t *testing.T, h http.Header, hasBody bool) {
	t.Helper()
	if got := h.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("Authorization = %q, want the bearer token", got)
	}
	ct := h.Get("Content-Type")
	if hasBody && ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !hasBody && ct != "" {
		t.Errorf("Content-Type = %q on a request without body", ct)
	}
}

func TestProblem(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        api.Problem
	}{
		{"problem document", 404, "application/problem+json",
			`{"type":"https://tokend.dev/problems/not-found","title":"Not Found","status":404,"detail":"no key key_9","request_id":"r1"}`,
			api.Problem{Type: api.ProblemTypeBase + api.ErrNotFound, Title: "Not Found", Status: 404, Detail: "no key key_9", RequestID: "r1"}},
		{"invalid field", 400, "application/problem+json; charset=utf-8",
			`{"type":"https://tokend.dev/problems/invalid-field","title":"Invalid field","status":400,"field":"scopes"}`,
			api.Problem{Type: api.ProblemTypeBase + api.ErrInvalidField, Title: "Invalid field", Status: 400, Field: "scopes"}},
		{"proxy html", 502, "text/html", `<html>Bad Gateway</html>`,
			api.Problem{Type: "about:blank", Title: "Bad Gateway", Status: 502}},
		{"garbage json", 500, "application/json", `{"type":`,
			api.Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500}},
		{"no body", 401, "", ``,
			api.Problem{Type: "about:blank", Title: "Unauthorized", Status: 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := fakeServer(t, tt.status, tt.contentType, tt.body)
			_, err := c.GetKey(context.Background(), "key_9")
			p, ok := errors.AsType[*api.Problem](err)
			if !ok {
				t.Fatalf("GetKey error = %v (%T), want *api.Problem", err, err)
			}
			if *p != tt.want {
				t.Errorf("GetKey problem = %+v, want %+v", *p, tt.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // substrings; nil means success
	}{
		{"ok", Config{URL: "https://tokend.example.com/prefix/", Token: "t"}, nil},
		{"all missing", Config{}, []string{"URL is required", "token is required"}},
		{"bad scheme", Config{URL: "ftp://x", Token: "t"}, []string{"scheme"}},
		{"no host", Config{URL: "http://", Token: "t"}, []string{"no host"}},
		{"userinfo", Config{URL: "https://u:pw@x", Token: "t"}, []string{"user information"}},
		{"query", Config{URL: "https://x/?a=b", Token: "t"}, []string{"query"}},
		{"newline token", Config{URL: "https://x", Token: "sec\nret"}, []string{"control character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("New(%+v) = %v, want nil", tt.cfg, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%+v) = nil, want error", tt.cfg)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%+v) = %q, want it to mention %q", tt.cfg, err, w)
				}
			}
			for _, secret := range []string{"pw", "sec\nret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("New(%+v) = %q, leaks %q", tt.cfg, err, secret)
				}
			}
		})
	}
}

func TestBadIDs(t *testing.T) {
	c, got := fakeServer(t, 200, "application/json", `{}`)
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetKey(context.Background(), id); err == nil {
			t.Errorf("GetKey(%q) = nil error, want refusal", id)
		}
	}
	if got.method != "" {
		t.Errorf("a request was sent: %s %s", got.method, got.path)
	}
}

func TestPathPrefix(t *testing.T) {
	c, got := fakeServer(t, 200, "application/json", `{"apis":[]}`)
	c.base += "/tokend"
	if _, err := c.ListAPIs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.path != "/tokend/v1/apis" {
		t.Errorf("path = %q, want /tokend/v1/apis", got.path)
	}
}

func TestTransportErrorHidesToken(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:1", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListKeys(context.Background(), ListKeysOptions{Subject: "s"})
	if err == nil {
		t.Fatal("ListKeys to a closed port succeeded")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q contains the token", err)
	}
}
