package gateway_test

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/tokenauth"
)

// fixture is a real tokend, a real upstream and the gateway in front of
// it, all on 127.0.0.1.
type fixture struct {
	tokend   *servertest.Server
	gw       *gateway.Gateway
	url      string // the gateway
	upstream *recorder
	upURL    string
	reg      *prometheus.Registry
	read     string // a key with scope read
	limited  string // a key with scope read and a limit of 2 a minute
	apiID    string
	vkey     string // the gateway's verify key
}

// recorder is the upstream: it records each request and answers by path.
type recorder struct {
	mu   sync.Mutex
	last *http.Request
}

func (u *recorder) seen() *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func (u *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.last = r.Clone(r.Context())
	u.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/events"):
		sse(w, r)
	case strings.HasPrefix(r.URL.Path, "/ws"):
		echoWebSocket(w, r)
	case strings.HasPrefix(r.URL.Path, "/hang"):
		hang(w, r)
	default:
		w.Header().Set("X-RateLimit-Limit", "999") // the gateway's must win
		fmt.Fprintf(w, "upstream %s %s", r.Method, r.URL.Path)
	}
}

const routes = `{"routes": [
  {"name": "all", "path": "/", "upstream": "%[1]s", "audience": "https://pay.example", "scopes": ["read"]},
  {"name": "admin", "path": "/admin", "upstream": "%[1]s", "audience": "https://pay.example", "scopes": ["write"]},
  {"name": "public", "path": "/public", "upstream": "%[1]s/base", "audience": "https://pay.example"}
]}`

// routesFor is the route table of routes for the upstream at upURL.
func routesFor(upURL string) string { return fmt.Sprintf(routes, upURL) }

func newFixture(t *testing.T, timeout time.Duration) *fixture {
	t.Helper()
	f := &fixture{tokend: servertest.New(t), upstream: &recorder{}, reg: prometheus.NewRegistry()}
	up := httptest.NewServer(f.upstream)
	t.Cleanup(up.Close)
	f.upURL = up.URL
	c := f.tokend.Client
	a, err := c.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Pay", Audience: "https://pay.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "pay"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		secret *string
		limits []api.RateLimit
	}{{&f.read, nil}, {&f.limited, []api.RateLimit{{Name: "burst", Limit: 2, Window: api.Duration(time.Minute)}}}} {
		ck, err := c.CreateKey(t.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "cust_1", Scopes: []string{"read"}, RateLimits: k.limits})
		if err != nil {
			t.Fatal(err)
		}
		*k.secret = ck.Secret
	}
	_, vkey, err := f.tokend.Keys.CreateAdminKey(t.Context(), audit.Actor{ID: "test"}, "gateway", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	f.apiID, f.vkey = a.ID, vkey
	f.gw = newGateway(t, f.tokend.URL, vkey, mustTable(t, routesFor(up.URL)), timeout, f.reg)
	srv := httptest.NewServer(f.gw)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func newGateway(t *testing.T, tokendURL, vkey string, tab *routetable.Table, timeout time.Duration, reg prometheus.Registerer) *gateway.Gateway {
	t.Helper()
	auth, err := tokenauth.New(tokenauth.Config{URL: tokendURL, VerifyKey: vkey, Audience: "https://pay.example", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Routes: tab, Auth: auth, UpstreamTimeout: timeout, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return gw
}

func mustTable(t testing.TB, s string) *routetable.Table {
	t.Helper()
	tab, err := routetable.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// get sends GET path to the gateway with token and extra headers.
func (f *fixture) get(t *testing.T, path, token string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// raw sends a request line exactly as written (no client-side cleaning)
// and returns the status and body.
func (f *fixture) raw(t *testing.T, target, token string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: gw.example\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", target, token)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestGatewayForwards: a good token reaches the upstream with its
// identity and without its credentials or the client's claims; the
// others are refused by tokenauth's answers.
func TestGatewayForwards(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	spoof := http.Header{"Tokend-Subject": {"admin"}, "Tokend-Scopes": {"write"}, "Tokend-Api-Id": {"api_other"},
		"Tokend-Verify-Key": {"x"}, "X-Forwarded-For": {"6.6.6.6"}, "X-Forwarded-Host": {"evil"}, "Forwarded": {"for=6.6.6.6"},
		"X-Real-Ip": {"6.6.6.6"}}
	resp, body := f.get(t, "/orders/1?x=1", f.read, spoof)
	if resp.StatusCode != 200 || body != "upstream GET /orders/1" {
		t.Fatalf("good token: %d %q", resp.StatusCode, body)
	}
	r := f.upstream.seen()
	want := map[string]string{"Tokend-Subject": "cust_1", "Tokend-Scopes": "read", "Tokend-Token-Kind": "api_key",
		"Tokend-Verify-Key": "", "Authorization": "", "X-Forwarded-For": "127.0.0.1",
		"X-Forwarded-Host": strings.TrimPrefix(f.url, "http://"), "X-Forwarded-Proto": "http", "Forwarded": "", "X-Real-Ip": ""}
	for h, v := range want {
		if got := strings.Join(r.Header.Values(h), ","); got != v {
			t.Errorf("upstream saw %s %q, want %q", h, got, v)
		}
	}
	if r.Header.Get("Tokend-Api-Id") == "api_other" || r.Header.Get("Tokend-Token-Id") == "" || r.URL.RawQuery != "x=1" {
		t.Errorf("upstream saw api %q, token id %q, query %q", r.Header.Get("Tokend-Api-Id"), r.Header.Get("Tokend-Token-Id"), r.URL.RawQuery)
	}
	tests := []struct {
		name, path, token string
		status            int
		challenge         string
	}{
		{"missing scope", "/admin/x", f.read, 403, `error="insufficient_scope"`},
		{"bad token", "/orders", "pay_nope", 401, `error="invalid_token"`},
		{"no token", "/orders", "", 401, "Bearer"},
		{"token in query", "/orders?access_token=" + f.read, f.read, 400, `error="invalid_request"`},
	}
	for _, tt := range tests {
		resp, _ := f.get(t, tt.path, tt.token, nil)
		if resp.StatusCode != tt.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tt.challenge) {
			t.Errorf("%s: %d %q, want %d with %q", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tt.status, tt.challenge)
		}
		// RFC 6750 §3.1: a request without a token gets no error code,
		// in the Bearer challenge nor the DPoP one.
		for _, c := range resp.Header.Values("WWW-Authenticate") {
			if tt.token == "" && strings.Contains(c, "error") {
				t.Errorf("%s: challenge %q names an error", tt.name, c)
			}
		}
	}
	if got := requests(t, f.reg, "all", "200"); got != 1 {
		t.Errorf("tokend_gateway_requests_total{route=all,code=200} = %v, want 1", got)
	}
}

// TestGatewayRateLimits: every answer to a limited key carries its
// limits, the upstream's own headers are replaced, and the request over
// the limit is 429 with Retry-After, never reaching the upstream.
func TestGatewayRateLimits(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		resp, _ := f.get(t, "/orders", f.limited, nil)
		if resp.StatusCode != want.status || resp.Header.Get("X-RateLimit-Limit") != "2" ||
			resp.Header.Get("X-RateLimit-Remaining") != want.remaining || resp.Header.Get("RateLimit-Policy") == "" {
			t.Errorf("request %d: %d, limit %q, remaining %q, policy %q; want %d, 2, %s", i+1, resp.StatusCode,
				resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"), resp.Header.Get("RateLimit-Policy"),
				want.status, want.remaining)
		}
		if want.status == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
}

// TestGatewayPathTricks: the path matched is the path forwarded; what
// could be read two ways is 400 and reaches nothing.
func TestGatewayPathTricks(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/admin/../public/x", 200, "upstream GET /base/public/x"},
		{"/public/../admin", 403, ""},
		{"//admin", 403, ""},
		{"/public/./../admin/", 403, ""},
		{"/public%2F..%2Fadmin", 400, ""},
		{"/public/%2e%2e/admin", 400, ""},
		{"/public/%252e%252e/admin", 400, ""},
		{"/%61dmin", 400, ""},
		{"/public/..;/admin", 400, ""},
		{`/public\..\admin`, 400, ""},
	}
	for _, tt := range tests {
		status, body := f.raw(t, tt.target, f.read)
		if status != tt.status || (tt.body != "" && body != tt.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tt.target, status, body, tt.status, tt.body)
		}
	}
}

// TestGatewayUnmatchedIsDenied: with no route for "/", other paths are 404.
func TestGatewayUnmatchedIsDenied(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	if err := f.gw.Reload(mustTable(t, `{"routes": [{"path": "/public", "upstream": "`+f.upURL+`", "audience": "https://pay.example"}]}`)); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.get(t, "/orders", f.read, nil); resp.StatusCode != 404 {
		t.Errorf("unmatched: %d, want 404", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/public", f.read, nil); resp.StatusCode != 200 {
		t.Errorf("after reload /public: %d, want 200", resp.StatusCode)
	}
	// A table with a route without an upstream is refused; the old stays.
	if err := f.gw.Reload(mustTable(t, `{"routes": [{"path": "/", "audience": "https://pay.example"}]}`)); err == nil {
		t.Error("Reload accepted a route without an upstream")
	}
	if resp, _ := f.get(t, "/public", f.read, nil); resp.StatusCode != 200 {
		t.Errorf("after a refused reload /public: %d, want 200", resp.StatusCode)
	}
}

// TestGatewayStreamsEvents: a server-sent event reaches the client while
// the upstream is still sending (the upstream waits for the client to
// have read the first before sending the second).
func TestGatewayStreamsEvents(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.url+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event: %q, %v", line, err)
	}
	close(sseRead)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest of the stream: %q", rest)
	}
}

var sseRead = make(chan struct{})

func sse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, "data: first\n\n")
	w.(http.Flusher).Flush()
	select {
	case <-sseRead:
	case <-r.Context().Done():
		return
	}
	io.WriteString(w, "data: second\n\n")
}

// TestGatewayWebSocket: a WebSocket upgrade passes the checks, is spliced
// through, and a message makes the round trip.
func TestGatewayWebSocket(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", f.read)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-Websocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade: %d %v", resp.StatusCode, resp.Header)
	}
	writeFrame(c, []byte("hello through the gateway"), true)
	msg, err := readFrame(br)
	if err != nil || string(msg) != "hello through the gateway" {
		t.Errorf("echo: %q, %v", msg, err)
	}
}

// echoWebSocket is a minimal RFC 6455 server: it accepts the upgrade and
// echoes one text frame.
func echoWebSocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not an upgrade", 400)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	// The accept value of the RFC 6455 §1.3 sample key.
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
	brw.Flush()
	msg, err := readFrame(brw.Reader)
	if err != nil {
		return
	}
	writeFrame(conn, msg, false)
}

// writeFrame writes one unfragmented text frame (masked from a client).
func writeFrame(w io.Writer, payload []byte, masked bool) {
	hdr := []byte{0x81, byte(len(payload))}
	if !masked {
		w.Write(append(hdr, payload...))
		return
	}
	hdr[1] |= 0x80
	var mask [4]byte
	rand.Read(mask[:])
	out := append(hdr, mask[:]...)
	for i, b := range payload {
		out = append(out, b^mask[i%4])
	}
	w.Write(out)
}

// readFrame reads one short frame and unmasks it.
func readFrame(r *bufio.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(hdr[1] & 0x7f)
	if n > 125 {
		return nil, fmt.Errorf("frame too long for this test")
	}
	var mask [4]byte
	if hdr[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	if hdr[1]&0x80 != 0 {
		for i := range p {
			p[i] ^= mask[i%4]
		}
	}
	_ = binary.BigEndian
	return p, nil
}

var hangEnded = make(chan struct{}, 1)

// hang never answers; it reports when its request is given up.
func hang(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
	hangEnded <- struct{}{}
}

// TestGatewayUpstreamHangs: an upstream that never answers is 504 after
// the timeout, and the gateway gives up its request (the upstream sees
// its connection closed), so nothing is left waiting.
func TestGatewayUpstreamHangs(t *testing.T) {
	f := newFixture(t, 100*time.Millisecond)
	resp, _ := f.get(t, "/hang", f.read, nil)
	if resp.StatusCode != 504 {
		t.Fatalf("hanging upstream: %d, want 504", resp.StatusCode)
	}
	select {
	case <-hangEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was never given up")
	}
}

// TestGatewayFailsClosed: with tokend unreachable, every request is 503
// and none reaches the upstream.
func TestGatewayFailsClosed(t *testing.T) {
	f := newFixture(t, time.Second) // for a well-formed key
	up := &recorder{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	gw := newGateway(t, deadURL, "tokend_x", mustTable(t, `{"routes": [{"path": "/", "upstream": "`+srv.URL+`", "audience": "a"}]}`), time.Second, nil)
	g := httptest.NewServer(gw)
	t.Cleanup(g.Close)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", g.URL+"/x", nil)
	req.Header.Set("Authorization", "Bearer "+f.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || up.seen() != nil {
		t.Errorf("tokend down: %d, Retry-After %q, upstream reached: %v; want 503, a delay, false",
			resp.StatusCode, resp.Header.Get("Retry-After"), up.seen() != nil)
	}
}

// requests reads tokend_gateway_requests_total{route,code} from reg.
func requests(t *testing.T, reg *prometheus.Registry, route, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tokend_gateway_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestGatewayLeavesAcceptEncoding: a request without Accept-Encoding
// reaches the upstream without one (the gateway's transport neither asks
// for gzip on its own nor decompresses), and one with it keeps it.
func TestGatewayLeavesAcceptEncoding(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	if code, body := f.raw(t, "/orders", f.read); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got := f.upstream.seen().Header.Get("Accept-Encoding"); got != "" {
		t.Errorf("upstream got Accept-Encoding %q from a client that sent none", got)
	}
	if resp, body := f.get(t, "/orders", f.read, http.Header{"Accept-Encoding": {"br"}}); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if got := f.upstream.seen().Header.Get("Accept-Encoding"); got != "br" {
		t.Errorf("upstream got Accept-Encoding %q, want the client's br", got)
	}
}
