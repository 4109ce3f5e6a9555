package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/webhook"
)

// hookReceiver is a real HTTPS endpoint on 127.0.0.1 that answers 500
// to its first request and 200 after, and keeps what it got.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	header []http.Header
	bodies [][]byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.header, h.bodies = append(h.header, r.Header.Clone()), append(h.bodies, b)
		if len(h.bodies) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// signedWith reports whether request i carries a Standard Webhooks
// signature under secret, checked here from the spec.
func (h *hookReceiver) signedWith(i int, secret string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || i >= len(h.bodies) {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.header[i].Get("webhook-id") + "." + h.header[i].Get("webhook-timestamp") + "."))
	mac.Write(h.bodies[i])
	return h.header[i].Get("webhook-signature") == "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// TestBrowserWebhooks: in chromium an admin registers an endpoint (a
// real HTTPS receiver) on the console and copies its secret; an event is
// delivered, refused with a 500, and the delivery log shows the attempt,
// the answer, the error and the next attempt; the retry succeeds and the
// log says so; both requests verify with the secret the page showed.
// Then the admin rotates the secret and deletes the endpoint. The pages
// are shot at desktop and phone width.
func TestBrowserWebhooks(t *testing.T) {
	rcv := newHookReceiver(t)
	roots := x509.NewCertPool()
	roots.AddCert(rcv.srv.Certificate())
	var clock *servertest.Clock // the server's, set once it exists
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff, Webhooks: webhook.Config{Now: func() time.Time { return clock.Now() },
		Backoff: time.Minute, Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: roots})}})
	clock = s.Clock
	newUser(t, s, "root", alicePW, true)
	b := newBrowser(t)
	signInBrowser(b, s.URL, "root", alicePW, "#profile")

	b.do(chromedp.Navigate(s.URL+"/admin/users"), chromedp.Click(chromedp.CSS(`nav.console a[href="/admin/webhooks"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`a[href="/admin/webhooks/new"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#url")))
	b.do(chromedp.Click(chromedp.CSS(`input[value="key.create"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`input[value="key.revoke"]`), chromedp.NodeVisible))
	b.shoot("admin-new-webhook")
	b.submit([][2]string{{"#url", rcv.srv.URL + "/hook"}, {"#description", "Audit pipeline"}}, "main form button[type=submit]", "#secret")
	secret := b.text("#secret")
	mustContain(t, "secret page", b.text("main"), "was registered", "keeps it encrypted")
	b.shoot("admin-webhook-secret")

	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Wiki", Audience: "https://wiki.example", KeyPrefix: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "svc-sync"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Webhooks.DeliverDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	b.do(chromedp.Click(chromedp.CSS(`main a[href^="/admin/webhooks/whk_"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#details")))
	mustContain(t, "endpoint page", b.text("#details ~ dl, #details + dl"), rcv.srv.URL+"/hook", "key.create", "Audit pipeline")
	b.shoot("admin-webhook")
	b.do(chromedp.Click(chromedp.CSS(`a[href$="/deliveries"]`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "delivery log after a 500", b.text("table"), "key.create", "pending", "500", "the endpoint answered 500",
		"2 Jan 2026, 03:05 UTC")
	b.shoot("admin-webhook-deliveries")

	clock.Advance(time.Minute)
	if n, err := s.Webhooks.DeliverDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("retry: DeliverDue = %d, %v", n, err)
	}
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table")))
	mustContain(t, "delivery log after the retry", b.text("table"), "delivered", "200")
	for i := range 2 {
		if !rcv.signedWith(i, secret) {
			t.Errorf("request %d is not signed with the secret the page showed", i)
		}
	}

	b.do(chromedp.Click(chromedp.CSS(`main p.small a`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/rotate"] button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#secret")))
	if rotated := b.text("#secret"); rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
		t.Errorf("rotation showed %q", rotated)
	}
	b.do(chromedp.Navigate(s.URL+"/admin/webhooks"), chromedp.WaitVisible(chromedp.CSS("table")))
	b.shoot("admin-webhooks")
	b.do(chromedp.Click(chromedp.CSS(`main td a[href^="/admin/webhooks/whk_"]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/delete"] input[name=confirm]`), chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS(".notice")))
	mustContain(t, "after delete", b.text("main"), "was deleted", "No endpoint")
}
