package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/servertest"
)

// nginxConf is the documented nginx setup (docs/protecting-an-api.md):
// auth_request to /v1/authz with the requirements on the URL, the
// identity headers passed upstream (and so never the client's), the
// client's Authorization dropped, the rate-limit headers passed back,
// and a 429 from tokend answered as 429 (nginx itself only knows 401 and
// 403 from an auth subrequest, and turns anything else into 500). For
// DPoP (RFC 9449) the client's DPoP header goes to tokend with the
// original scheme and host (X-Forwarded-Proto, X-Forwarded-Host with the
// port), the proof is not passed upstream, and tokend's DPoP-Nonce is
// passed back.
const nginxConf = `daemon off;
master_process off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  server {
    listen {{listen}};
    location / {
      auth_request /_tokend_authz;
      auth_request_set $tokend_status $upstream_status;
      auth_request_set $tokend_subject $upstream_http_tokend_subject;
      auth_request_set $tokend_token_id $upstream_http_tokend_token_id;
      auth_request_set $tokend_token_kind $upstream_http_tokend_token_kind;
      auth_request_set $tokend_scopes $upstream_http_tokend_scopes;
      auth_request_set $tokend_client_id $upstream_http_tokend_client_id;
      auth_request_set $tokend_api_id $upstream_http_tokend_api_id;
      auth_request_set $tokend_rl_limit $upstream_http_x_ratelimit_limit;
      auth_request_set $tokend_rl_remaining $upstream_http_x_ratelimit_remaining;
      auth_request_set $tokend_rl_reset $upstream_http_x_ratelimit_reset;
      auth_request_set $tokend_rl_policy $upstream_http_ratelimit_policy;
      auth_request_set $tokend_rl $upstream_http_ratelimit;
      auth_request_set $tokend_retry_after $upstream_http_retry_after;
      auth_request_set $tokend_dpop_nonce $upstream_http_dpop_nonce;
      proxy_set_header Authorization "";
      proxy_set_header DPoP "";
      proxy_set_header Tokend-Subject $tokend_subject;
      proxy_set_header Tokend-Token-Id $tokend_token_id;
      proxy_set_header Tokend-Token-Kind $tokend_token_kind;
      proxy_set_header Tokend-Scopes $tokend_scopes;
      proxy_set_header Tokend-Client-Id $tokend_client_id;
      proxy_set_header Tokend-Api-Id $tokend_api_id;
      add_header X-RateLimit-Limit $tokend_rl_limit always;
      add_header X-RateLimit-Remaining $tokend_rl_remaining always;
      add_header X-RateLimit-Reset $tokend_rl_reset always;
      add_header RateLimit-Policy $tokend_rl_policy always;
      add_header RateLimit $tokend_rl always;
      add_header DPoP-Nonce $tokend_dpop_nonce always;
      error_page 500 = @tokend_error;
      proxy_pass {{upstream}};
    }
    location = /_tokend_authz {
      internal;
      proxy_pass {{tokend}}/v1/authz?audience=orders&scope=orders:read;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Tokend-Verify-Key "{{verifykey}}";
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Forwarded-Uri $request_uri;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header DPoP $http_dpop;
      proxy_set_header X-Original-Method "";
      proxy_set_header X-Original-URI "";
    }
    location @tokend_error {
      add_header X-RateLimit-Limit $tokend_rl_limit always;
      add_header X-RateLimit-Remaining $tokend_rl_remaining always;
      add_header X-RateLimit-Reset $tokend_rl_reset always;
      add_header Retry-After $tokend_retry_after always;
      if ($tokend_status = 429) { return 429; }
      if ($tokend_status = 400) { return 400; }
      return 503;
    }
  }
}
`

// nginxBinary finds Debian's nginx (in /usr/sbin, which a non-root PATH
// may lack); .ci/run installs nginx-light so that CI never skips.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it, so CI runs this test")
	return ""
}

// startNginx writes conf with its placeholders filled in, starts nginx on
// a free loopback port and returns its URL.
func startNginx(t *testing.T, conf map[string]string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	text := strings.NewReplacer("{{dir}}", dir, "{{listen}}", addr).Replace(nginxConf)
	for k, v := range conf {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error log:\n%s", b)
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		if i == 100 {
			t.Fatalf("nginx did not start: %s", &stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// headerRecorder is an upstream that records the headers of the last
// request it served.
type headerRecorder struct {
	mu   sync.Mutex
	last http.Header
}

func (u *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.last = r.Header.Clone()
	u.mu.Unlock()
	io.WriteString(w, "upstream "+r.URL.Path)
}

func (u *headerRecorder) headers() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// TestNginxAuthRequest proves the forward-auth contract end to end with a
// real nginx and a real tokend: 200 with the identity upstream (and the
// client's spoofed identity and token not), 401 with the challenge, 403,
// and 429 with Retry-After, rate-limit headers throughout.
func TestNginxAuthRequest(t *testing.T) {
	nginxBinary(t)
	dir := t.TempDir()
	url, admin, _, _ := startServe(t, dir)
	cli(t, url, admin, 0, "apis", "create", "--name", "Orders", "--audience", "orders", "--scopes", "orders:read,orders:write", "--key-prefix", "ord")
	var apis api.APIList
	mustJSON(t, cli(t, url, admin, 0, "apis", "list", "--json"), &apis)
	var apiID string
	for _, a := range apis.APIs {
		if a.Audience == "orders" {
			apiID = a.ID
		}
	}
	var reader, writer api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", apiID, "--subject", "cust_1",
		"--scopes", "orders:read", "--ratelimit", "burst:3:1m"), &reader)
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", apiID, "--subject", "cust_2",
		"--scopes", "orders:write"), &writer)
	vkey := strings.TrimSpace(cli(t, "", "", 0, "admin-key", "create", "--data-dir", dir, "--scopes", "tokend:verify"))
	up := &headerRecorder{}
	upstream := httptest.NewServer(up)
	t.Cleanup(upstream.Close)
	proxy := startNginx(t, map[string]string{"upstream": upstream.URL, "tokend": url, "verifykey": vkey})

	do := func(token string, extra map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", proxy+"/orders/42?page=1", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	spoof := map[string]string{"Tokend-Subject": "admin", "Tokend-Scopes": "orders:write", "Tokend-Client-Id": "evil",
		"X-Forwarded-Uri": "/public"}
	resp := do(reader.Secret, spoof)
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("valid key: %d, X-RateLimit-Limit %q, remaining %q; want 200, 3, 2", resp.StatusCode,
			resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"))
	}
	got := up.headers()
	for h, want := range map[string]string{"Tokend-Subject": "cust_1", "Tokend-Scopes": "orders:read",
		"Tokend-Token-Id": reader.Key.ID, "Tokend-Token-Kind": "api_key", "Tokend-Api-Id": apiID, "Authorization": "",
		"Tokend-Client-Id": ""} {
		if got.Get(h) != want {
			t.Errorf("upstream saw %s %q, want %q", h, got.Get(h), want)
		}
	}
	if resp := do("ord_nope", nil); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d, challenge %q; want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := do("", nil); resp.StatusCode != 401 {
		t.Errorf("no token: %d, want 401", resp.StatusCode)
	}
	if resp := do(writer.Secret, nil); resp.StatusCode != 403 {
		t.Errorf("key without orders:read: %d, want 403", resp.StatusCode)
	}
	do(reader.Secret, nil)
	do(reader.Secret, nil)
	resp = do(reader.Secret, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d, Retry-After %q, remaining %q; want 429, a delay, 0", resp.StatusCode,
			resp.Header.Get("Retry-After"), resp.Header.Get("X-RateLimit-Remaining"))
	}
	nginxDPoP(t, url, admin, apiID, proxy, up)
}

// nginxDPoP sends a DPoP-bound key through nginx: with the DPoP scheme
// and a proof of the URL the client addressed, after the nonce dance, it
// reaches the upstream without its proof; as a bearer token, without a
// proof, with a proof for another URL, or replayed, it is refused with
// the challenge naming the error.
func nginxDPoP(t *testing.T, url, admin, apiID, proxy string, up *headerRecorder) {
	t.Helper()
	adm, err := client.New(client.Config{URL: url, Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	key := servertest.NewDPoPKey(t)
	bound, err := adm.CreateKey(t.Context(), api.CreateKeyRequest{APIID: apiID, Subject: "cust_dpop",
		Scopes: []string{"orders:read"}, DPoPJWK: key.PublicJWK()})
	if err != nil {
		t.Fatal(err)
	}
	u := proxy + "/orders/42"
	send := func(auth string, proofs ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", u+"?page=1", nil)
		req.Header.Set("Authorization", auth)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	proof := func(url, nonce string) string {
		p, err := key.Proof("GET", url, bound.Secret, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	resp := send("DPoP "+bound.Secret, proof(u, ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 401 || nonce == "" || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `DPoP realm="tokend", error="use_dpop_nonce"`) {
		t.Fatalf("DPoP without tokend's nonce: %d, DPoP-Nonce %q, challenge %q; want 401 use_dpop_nonce with a nonce",
			resp.StatusCode, nonce, resp.Header.Get("WWW-Authenticate"))
	}
	once := proof(u, nonce)
	if resp := send("DPoP "+bound.Secret, once); resp.StatusCode != 200 {
		t.Fatalf("DPoP with a good proof through nginx: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if got := up.headers(); got.Get("Tokend-Subject") != "cust_dpop" || got.Get("DPoP") != "" || got.Get("Authorization") != "" {
		t.Errorf("upstream saw subject %q, DPoP %q, Authorization %q", got.Get("Tokend-Subject"), got.Get("DPoP"), got.Get("Authorization"))
	}
	for _, tt := range []struct {
		name, auth string
		proofs     []string
		challenge  string
	}{
		{"bound key as bearer", "Bearer " + bound.Secret, nil, `Bearer realm="tokend", error="invalid_token"`},
		{"DPoP without a proof", "DPoP " + bound.Secret, nil, `DPoP realm="tokend", error="invalid_dpop_proof"`},
		{"proof for another URL", "DPoP " + bound.Secret, []string{proof(proxy+"/orders/43", nonce)}, `DPoP realm="tokend", error="invalid_dpop_proof"`},
		{"proof for https", "DPoP " + bound.Secret, []string{proof("https"+strings.TrimPrefix(u, "http"), nonce)}, `DPoP realm="tokend", error="invalid_dpop_proof"`},
		{"replayed proof", "DPoP " + bound.Secret, []string{once}, `DPoP realm="tokend", error="invalid_dpop_proof"`},
	} {
		if resp := send(tt.auth, tt.proofs...); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), tt.challenge) {
			t.Errorf("%s through nginx: %d %q; want 401 %s", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tt.challenge)
		}
	}
}
