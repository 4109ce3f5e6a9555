package main

import (
	"bytes"
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

const adminKey = "tok_admin_0123456789"

// request is one request the fake API received.
type request struct {
	method, path, query, auth, body string
}

// fakeAPI answers each "METHOD /path" with a canned status and JSON body,
// and records what it received.
func fakeAPI(t *testing.T, answers map[string]string) (env func(string) string, got *[]request) {
	t.Helper()
	got = &[]request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = append(*got, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(b)})
		answer, ok := answers[r.Method+" "+r.URL.EscapedPath()]
		if !ok {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			io.WriteString(w, `{"type":"https://tokend.dev/problems/not-found","title":"Not Found","status":404,"detail":"no such thing"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{"TOKEND_URL": srv.URL, "TOKEND_TOKEN": adminKey}
	return func(k string) string { return vars[k] }, got
}

// runCLI runs a keys or apis command with stdin and returns its output.
func runCLI(t *testing.T, env func(string) string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cmdIO{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, env: env,
		now: func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }}
	cmds := map[string][]command{"keys": keyCommands(), "apis": apiCommands()}[args[0]]
	err = dispatch(context.Background(), args[0], cmds, c, args[1:])
	return out.String(), errOut.String(), err
}

const createdKey = `{"key":{"id":"key_1","api_id":"api_1","subject":"alice","prefix":"bill",
	"start":"bill_key_1_ab","end":"yz","scopes":["r"],"enabled":true,
	"created_at":"2025-06-01T00:00:00Z","updated_at":"2025-06-01T00:00:00Z"},"secret":"bill_key_1_abSECRETyz"}`

func TestKeysCreate(t *testing.T) {
	env, got := fakeAPI(t, map[string]string{"POST /v1/keys": createdKey})
	stdout, _, err := runCLI(t, env, "", "keys", "create", "--api", "api_1", "--subject", "alice",
		"--scopes", "r", "--ttl", "24h", "--cidr", "10.0.0.0/8", "--cidr", "::1/128",
		"--ratelimit", "default:100:1m", "--credits", "50", "--refill", "50:24h",
		"--metadata", `{"plan":"pro"}`, "--disabled")
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	if len(*got) != 1 {
		t.Fatalf("server got %d requests, want 1", len(*got))
	}
	r := (*got)[0]
	if r.method != "POST" || r.path != "/v1/keys" || r.auth != "Bearer "+adminKey {
		t.Errorf("request = %s %s auth %q", r.method, r.path, r.auth)
	}
	want := `{"api_id":"api_1","subject":"alice","scopes":["r"],"ttl":"24h0m0s",` +
		`"allowed_cidrs":["10.0.0.0/8","::1/128"],"ratelimits":[{"name":"default","limit":100,"window":"1m0s"}],` +
		`"credits":{"remaining":50,"refill":{"amount":50,"interval":"24h0m0s"}},"metadata":{"plan":"pro"},"enabled":false}`
	if r.body != want {
		t.Errorf("body =\n%s\nwant\n%s", r.body, want)
	}
	for _, line := range []string{"Secret: bill_key_1_abSECRETyz\n", "shown only once", "bill_key_1_ab…yz"} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
}

func TestKeysCreateJSON(t *testing.T) {
	env, _ := fakeAPI(t, map[string]string{"POST /v1/keys": createdKey})
	stdout, _, err := runCLI(t, env, "", "keys", "create", "--json", "--api", "api_1", "--subject", "alice")
	if err != nil {
		t.Fatalf("keys create --json: %v", err)
	}
	var ck api.CreatedKey
	if err := json.Unmarshal([]byte(stdout), &ck); err != nil || ck.Secret != "bill_key_1_abSECRETyz" {
		t.Errorf("stdout = %s (%v), want the CreatedKey JSON", stdout, err)
	}
}

func TestKeysUpdateBody(t *testing.T) {
	env, got := fakeAPI(t, map[string]string{"PATCH /v1/keys/key_1": `{"id":"key_1"}`})
	_, _, err := runCLI(t, env, "", "keys", "update", "key_1", "--no-expiry", "--no-credits",
		"--scopes", "", "--disable", "--metadata", "null")
	if err != nil {
		t.Fatalf("keys update: %v", err)
	}
	want := `{"scopes":[],"expires_at":null,"credits":null,"metadata":null,"enabled":false}`
	if body := (*got)[0].body; body != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

func TestKeysVerify(t *testing.T) {
	tests := []struct {
		name, answer string
		wantErr      error
	}{
		{"valid", `{"valid":true,"code":"VALID","token":{"id":"key_1","subject":"alice"}}`, nil},
		{"expired", `{"valid":false,"code":"EXPIRED"}`, errNotValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, got := fakeAPI(t, map[string]string{"POST /v1/verify": tt.answer})
			stdout, _, err := runCLI(t, env, "bill_key_1_secret\n", "keys", "verify", "--audience", "aud", "--cost", "3", "-")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("keys verify error = %v, want %v", err, tt.wantErr)
			}
			want := `{"token":"bill_key_1_secret","audience":"aud","cost":3}`
			if body := (*got)[0].body; body != want {
				t.Errorf("body = %s, want %s", body, want)
			}
			if !strings.Contains(stdout, "Code:") {
				t.Errorf("stdout lacks the code:\n%s", stdout)
			}
		})
	}
}

func TestKeysErrors(t *testing.T) {
	env, _ := fakeAPI(t, nil)
	noToken := func(k string) string {
		if k == "TOKEND_TOKEN" {
			return ""
		}
		return env(k)
	}
	tests := []struct {
		name    string
		env     func(string) string
		args    []string
		wantErr error
	}{
		{"no command", env, []string{"keys"}, errUsage},
		{"unknown command", env, []string{"keys", "frob"}, errUsage},
		{"missing subject", env, []string{"keys", "create", "--api", "a"}, errUsage},
		{"ttl and expires-at", env, []string{"keys", "create", "--api", "a", "--subject", "s", "--ttl", "1h", "--expires-at", "2030-01-01T00:00:00Z"}, errUsage},
		{"refill without credits", env, []string{"keys", "create", "--api", "a", "--subject", "s", "--refill", "1:1h"}, errUsage},
		{"bad metadata", env, []string{"keys", "create", "--api", "a", "--subject", "s", "--metadata", "{"}, errUsage},
		{"empty update", env, []string{"keys", "update", "key_1"}, errUsage},
		{"no token", noToken, []string{"keys", "show", "key_1"}, errUsage},
		{"empty stdin", env, []string{"keys", "verify", "-"}, errUsage},
		{"help", env, []string{"keys", "show", "-h"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(t, tt.env, "", tt.args...)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("%q: error = %v, want %v", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestKeysShowProblem(t *testing.T) {
	env, _ := fakeAPI(t, nil)
	_, _, err := runCLI(t, env, "", "keys", "show", "key_404")
	p, ok := errors.AsType[*api.Problem](err)
	if !ok || p.Code() != api.ErrNotFound {
		t.Fatalf("keys show error = %v, want a not-found problem", err)
	}
	if strings.Contains(err.Error(), adminKey) {
		t.Errorf("error %q contains the admin key", err)
	}
}

func TestKeysListAll(t *testing.T) {
	env, got := fakePagedKeys(t)
	stdout, _, err := runCLI(t, env, "", "keys", "list", "--api", "api_1", "--all")
	if err != nil {
		t.Fatalf("keys list --all: %v", err)
	}
	if len(*got) != 2 || (*got)[1].query != "api_id=api_1&cursor=c2" {
		t.Errorf("requests = %+v, want two pages", *got)
	}
	for _, id := range []string{"key_1", "key_2"} {
		if !strings.Contains(stdout, id) {
			t.Errorf("stdout lacks %s:\n%s", id, stdout)
		}
	}
}

// fakePagedKeys serves GET /v1/keys in two pages.
func fakePagedKeys(t *testing.T) (func(string) string, *[]request) {
	t.Helper()
	got := &[]request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*got = append(*got, request{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery})
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("cursor") == "" {
			io.WriteString(w, `{"keys":[{"id":"key_1","enabled":true}],"next_cursor":"c2"}`)
			return
		}
		io.WriteString(w, `{"keys":[{"id":"key_2","enabled":false}]}`)
	}))
	t.Cleanup(srv.Close)
	return func(k string) string {
		return map[string]string{"TOKEND_URL": srv.URL, "TOKEND_TOKEN": adminKey}[k]
	}, got
}

func TestAPIsUpdateMergesPolicy(t *testing.T) {
	env, got := fakeAPI(t, map[string]string{
		"GET /v1/apis/api_1":   `{"id":"api_1","policy":{"max_key_ttl":"720h0m0s","require_ip_allowlist":true}}`,
		"PATCH /v1/apis/api_1": `{"id":"api_1"}`,
	})
	_, _, err := runCLI(t, env, "", "apis", "update", "api_1", "--name", "billing", "--default-ratelimit", "d:10:1s")
	if err != nil {
		t.Fatalf("apis update: %v", err)
	}
	if len(*got) != 2 {
		t.Fatalf("server got %d requests, want GET then PATCH", len(*got))
	}
	want := `{"name":"billing","policy":{"max_key_ttl":"720h0m0s","require_ip_allowlist":true,` +
		`"default_ratelimits":[{"name":"d","limit":10,"window":"1s"}]}}`
	if body := (*got)[1].body; body != want {
		t.Errorf("PATCH body = %s, want %s", body, want)
	}
}
