package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
	"github.com/tokend/tokend/internal/webhook"
)

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTPS server on 127.0.0.1 that answers the status
// codes of answers in turn (then 200) and keeps what it got.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	answers []int
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		code := http.StatusOK
		if len(r.answers) > 0 {
			code, r.answers = r.answers[0], r.answers[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// roots trusts the receiver's test certificate: the fetch.Config hook.
func (r *receiver) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(r.srv.Certificate())
	return p
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var kek = bytes.Repeat([]byte{7}, 32)

func openDB(t *testing.T) (*store.DB, string) {
	t.Helper()
	path := t.TempDir() + "/tokend.db"
	db, err := store.Open(t.Context(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func service(db *store.DB, c *clock, f *fetch.Fetcher) *webhook.Service {
	return webhook.New(webhook.Config{DB: db, KEK: kek, Sender: f, Now: c.now, Backoff: time.Minute, MaxAttempts: 3})
}

// checkSignature verifies a delivery per the Standard Webhooks spec,
// written here independently of package webhook: the secret after
// "whsec_" is base64, the signed content is "id.timestamp.body", and
// webhook-signature lists "v1,<base64 HMAC-SHA256>" values.
func checkSignature(t *testing.T, secret string, r received) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q is not whsec_ and base64", secret)
	}
	id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(r.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return
		}
	}
	t.Errorf("webhook-signature %q does not hold %q (id %q, timestamp %q)", r.header.Get("webhook-signature"), want, id, ts)
}

// revokeEvent writes an audit event, as the domain packages do.
func revokeEvent(t *testing.T, db *store.DB, at time.Time) {
	t.Helper()
	ev, err := audit.Change(audit.Actor{ID: "key_admin"}, at, "key.revoke", "key", "key_1", map[string]any{"revoked": false}, map[string]any{"revoked": true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendEvent(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
}

// TestDeliverySignedAndRetried: an event reaches a real HTTPS receiver
// signed per Standard Webhooks; a 500 is retried after the backoff with
// the same id and body; the delivery log shows each step; the secret is
// nowhere in the database file in clear.
func TestDeliverySignedAndRetried(t *testing.T) {
	db, path := openDB(t)
	rcv := newReceiver(t, http.StatusInternalServerError)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := service(db, c, fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()}))
	w, secret, err := s.Create(t.Context(), audit.System, api.CreateWebhookRequest{URL: rcv.srv.URL + "/hook", Events: []string{"key.revoke"}})
	if err != nil {
		t.Fatal(err)
	}
	revokeEvent(t, db, c.now())
	if n, err := s.DeliverDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v; want 1 attempt", n, err)
	}
	log, err := s.Deliveries(t.Context(), w.ID, "", 10)
	if err != nil || len(log) != 1 {
		t.Fatalf("Deliveries = %v, %v", log, err)
	}
	if d := log[0]; d.State != store.DeliveryPending || d.Attempts != 1 || d.ResponseCode != 500 || !strings.Contains(d.LastError, "500") ||
		!d.NextAt.Equal(c.now().Add(time.Minute)) {
		t.Errorf("after a 500: %+v; want pending, 1 attempt, code 500, next in 1m", d)
	}
	if n, _ := s.DeliverDue(t.Context()); n != 0 {
		t.Errorf("a delivery was retried before its backoff")
	}
	c.add(time.Minute)
	if n, err := s.DeliverDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("retry: DeliverDue = %d, %v", n, err)
	}
	log, _ = s.Deliveries(t.Context(), w.ID, "", 10)
	if d := log[0]; d.State != store.DeliveryDelivered || d.Attempts != 2 || d.ResponseCode != 200 || d.LastError != "" {
		t.Errorf("after the retry: %+v; want delivered in 2 attempts", d)
	}
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(got))
	}
	for _, r := range got {
		checkSignature(t, secret, r)
		checkRFC9421(t, secret, w.ID, rcv.srv.URL+"/hook", c.now, r)
	}
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") || !bytes.Equal(got[0].body, got[1].body) {
		t.Error("the retry has another id or body")
	}
	var body struct {
		Type string `json:"type"`
		Data struct {
			TargetID string          `json:"target_id"`
			After    json.RawMessage `json:"after"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[1].body, &body); err != nil || body.Type != "key.revoke" || body.Data.TargetID != "key_1" ||
		string(body.Data.After) != `{"revoked":true}` {
		t.Errorf("body %s: want type key.revoke about key_1", got[1].body)
	}
	checkSecretNotStored(t, path, secret)
}

// checkRFC9421 verifies the RFC 9421 signature of a delivery with
// package httpsig's verifier (tested against the npm implementation
// http-message-signatures): keyid the endpoint, hmac-sha256 with the
// secret's key, the body bound by Content-Digest.
func checkRFC9421(t *testing.T, secret, endpointID, url string, now func() time.Time, r received) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := &httpsig.Message{Method: "POST", TargetURI: url, Header: r.header, HasBody: true}
	sig, err := httpsig.Parse(m)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	v := &httpsig.Verifier{Now: now}
	if err := v.Verify(t.Context(), m, sig, &httpsig.Key{ID: endpointID, Alg: httpsig.AlgHMACSHA256, Secret: key}); err != nil {
		t.Errorf("RFC 9421 signature: %v", err)
	}
	if err := httpsig.CheckDigest(m, r.body); err != nil {
		t.Errorf("Content-Digest: %v", err)
	}
	if !slices.Contains(sig.Components, "webhook-id") {
		t.Errorf("the signature covers %v, not webhook-id", sig.Components)
	}
}

func checkSecretNotStored(t *testing.T, path, secret string) {
	t.Helper()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		if bytes.Contains(b, key) || bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(strings.TrimPrefix(secret, "whsec_"))) {
			t.Errorf("%s holds the webhook secret in clear", p)
		}
	}
}

// TestAttemptsAreBounded: an endpoint that always fails is given up
// after MaxAttempts, and the log says why.
func TestAttemptsAreBounded(t *testing.T) {
	db, _ := openDB(t)
	rcv := newReceiver(t, 503, 503, 503, 503)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := service(db, c, fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()}))
	w, _, err := s.Create(t.Context(), audit.System, api.CreateWebhookRequest{URL: rcv.srv.URL, Events: []string{"key.revoke", "key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	revokeEvent(t, db, c.now())
	for range 5 {
		s.DeliverDue(t.Context())
		c.add(time.Hour)
	}
	log, _ := s.Deliveries(t.Context(), w.ID, "", 10)
	if len(log) != 1 || log[0].State != store.DeliveryFailed || log[0].Attempts != 3 || log[0].ResponseCode != 503 {
		t.Errorf("log = %+v; want one delivery failed after 3 attempts", log)
	}
	if n := len(rcv.requests()); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
}

// TestPrivateEndpointsRefused: without the development flag an endpoint
// on a loopback address, or a name resolving to one, is refused at
// registration with a field error and nothing stored; one registered
// while the flag was on is refused again at delivery, before any
// connection.
func TestPrivateEndpointsRefused(t *testing.T) {
	db, _ := openDB(t)
	rcv := newReceiver(t)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	strict := service(db, c, fetch.New(fetch.Config{RootCAs: rcv.roots()}))
	port := rcv.srv.URL[strings.LastIndex(rcv.srv.URL, ":"):]
	for _, u := range []string{rcv.srv.URL, "https://localhost" + port, "https://169.254.169.254/hook", "https://[fd00::1]/hook"} {
		_, _, err := strict.Create(t.Context(), audit.System, api.CreateWebhookRequest{URL: u, Events: []string{"key.revoke"}})
		if e, ok := errors.AsType[*valid.Error](err); !ok || e.Field != "url" || !strings.Contains(e.Reason, "not a public address") {
			t.Errorf("Create(%s) = %v; want a url error naming a non-public address", u, err)
		}
	}
	for req, field := range map[*api.CreateWebhookRequest]string{
		{URL: "http://example.com/hook", Events: []string{"key.revoke"}}:    "url",
		{URL: "https://example.com/hook", Events: []string{"key.eaten"}}:    "events",
		{URL: "https://example.com/hook"}:                                   "events",
		{URL: "https://example.com/hook", Events: []string{"a", "a"}}:       "events",
		{URL: "https://example.com/hook#x", Events: []string{"key.create"}}: "url",
	} {
		if _, _, err := strict.Create(t.Context(), audit.System, *req); !isField(err, field) {
			t.Errorf("Create(%+v) = %v; want an error on %s", *req, err, field)
		}
	}
	if ws, _ := db.ListWebhooks(t.Context(), "", 10); len(ws) != 0 {
		t.Fatalf("refused endpoints were stored: %+v", ws)
	}
	lenient := service(db, c, fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: rcv.roots()}))
	w, _, err := lenient.Create(t.Context(), audit.System, api.CreateWebhookRequest{URL: rcv.srv.URL, Events: []string{"key.revoke"}})
	if err != nil {
		t.Fatal(err)
	}
	revokeEvent(t, db, c.now())
	if n, _ := strict.DeliverDue(t.Context()); n != 1 {
		t.Fatalf("DeliverDue made %d attempts, want 1", n)
	}
	log, _ := strict.Deliveries(t.Context(), w.ID, "", 10)
	if len(log) != 1 || log[0].State != store.DeliveryPending || !strings.Contains(log[0].LastError, "not a public address") || log[0].ResponseCode != 0 {
		t.Errorf("log = %+v; want a pending delivery refused as not public", log)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the private receiver got %d requests", n)
	}
}

func isField(err error, field string) bool {
	e, ok := errors.AsType[*valid.Error](err)
	return ok && e.Field == field
}
