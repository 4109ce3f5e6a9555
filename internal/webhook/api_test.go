package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/webhook"
)

func problem(err error) *api.Problem {
	p, _ := errors.AsType[*api.Problem](err)
	return p
}

// TestManagementAPI drives /v1/webhooks through the Go client against a
// real server: create (secret once), list, get, rotate, the delivery log,
// delete, and bad input answered 400 with nothing stored.
func TestManagementAPI(t *testing.T) {
	s := servertest.New(t) // production rules: 127.0.0.1 is refused
	ctx := t.Context()
	_, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://127.0.0.1/hook", Events: []string{"key.create"}})
	if p := problem(err); p == nil || p.Status != 400 || p.Field != "url" || !strings.Contains(p.Detail, "not a public address") {
		t.Errorf("private endpoint: %v; want 400 on url", err)
	}
	_, err = s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"nope"}})
	if p := problem(err); p == nil || p.Status != 400 || p.Field != "events" {
		t.Errorf("unknown event: %v; want 400 on events", err)
	}
	list, err := s.Client.ListWebhooks(ctx, "", 0)
	if err != nil || len(list.Webhooks) != 0 || !slices.Equal(list.EventTypes, webhook.EventTypes) {
		t.Fatalf("ListWebhooks = %+v, %v", list, err)
	}
	// 203.0.114.9 is a public address nobody answers on here; nothing
	// is delivered in this test.
	created, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create", "webhook.rotate_secret"}, Description: "SIEM"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Webhook.Description != "SIEM" {
		t.Errorf("created = %+v", created)
	}
	got, err := s.Client.GetWebhook(ctx, created.Webhook.ID)
	if err != nil || got.URL != "https://203.0.114.9/hook" {
		t.Errorf("GetWebhook = %+v, %v", got, err)
	}
	rot, err := s.Client.RotateWebhookSecret(ctx, created.Webhook.ID)
	if err != nil || rot.Secret == created.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Errorf("RotateWebhookSecret = %+v, %v", rot, err)
	}
	log, err := s.Client.ListWebhookDeliveries(ctx, created.Webhook.ID, "", 0)
	if err != nil || len(log.Deliveries) != 1 || log.Deliveries[0].EventType != "webhook.rotate_secret" || log.Deliveries[0].State != "pending" {
		t.Errorf("deliveries = %+v, %v; want the queued rotation event", log, err)
	}
	if _, err := s.Client.ListWebhookDeliveries(ctx, created.Webhook.ID, "msg_x", 0); problem(err) == nil || problem(err).Field != "cursor" {
		t.Errorf("bad cursor: %v", err)
	}
	if err := s.Client.DeleteWebhook(ctx, created.Webhook.ID); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		s.Client.DeleteWebhook(ctx, created.Webhook.ID),
		func() error { _, err := s.Client.GetWebhook(ctx, created.Webhook.ID); return err }(),
		func() error { _, err := s.Client.ListWebhookDeliveries(ctx, created.Webhook.ID, "", 0); return err }(),
	} {
		if p := problem(err); p == nil || p.Status != 404 {
			t.Errorf("after delete: %v; want 404", err)
		}
	}
	if strings.Contains(s.Logs.String(), strings.TrimPrefix(created.Secret, "whsec_")) || strings.Contains(s.Logs.String(), strings.TrimPrefix(rot.Secret, "whsec_")) {
		t.Error("a webhook secret is in the server log")
	}
}

// TestSlowReceiverDoesNotBlockRequests: while the receiver holds a
// delivery open, key creation (which queues events) and verification
// answer; the delivery completes once the receiver lets go.
func TestSlowReceiverDoesNotBlockRequests(t *testing.T) {
	entered, release := make(chan struct{}, 16), make(chan struct{})
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	roots := (&receiver{srv: rcv}).roots()
	s := servertest.Start(t, servertest.Options{Webhooks: webhook.Config{Poll: 5 * time.Millisecond,
		Sender: fetch.New(fetch.Config{InsecureAllowPrivate: true, RootCAs: roots, Timeout: time.Minute})}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Webhooks.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	w, err := s.Client.CreateWebhook(t.Context(), api.CreateWebhookRequest{URL: rcv.URL, Events: []string{"key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Orders", Audience: "orders", KeyPrefix: "ord"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "first"}); err != nil {
		t.Fatal(err)
	}
	<-entered // the receiver now holds the first delivery open
	k, err := s.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "second"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: k.Secret, Audience: "orders"})
	if err != nil || !v.Valid {
		t.Fatalf("Verify = %+v, %v", v, err)
	}
	select {
	case <-release:
		t.Fatal("the receiver was released early")
	default:
	}
	close(release)
	for range 2000 { // a bound on the wait, not a timing assertion
		log, err := s.Client.ListWebhookDeliveries(t.Context(), w.Webhook.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(log.Deliveries) == 2 && log.Deliveries[0].State == "delivered" && log.Deliveries[1].State == "delivered" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the deliveries were not made after the receiver was released")
}

// TestLeakedTokenReported: a key reported at /v1/leaked-tokens queues
// token.leaked for an endpoint subscribed to it, besides nothing for the
// key.revoke it did not ask for.
func TestLeakedTokenReported(t *testing.T) {
	s := servertest.New(t)
	ctx := t.Context()
	w, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"token.leaked"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Orders", Audience: "orders", KeyPrefix: "ord"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"token":"` + k.Secret + `","url":"https://gist.example.com/x"}`
	res, err := http.Post(s.URL+"/v1/leaked-tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("POST /v1/leaked-tokens = %d", res.StatusCode)
	}
	log, err := s.Client.ListWebhookDeliveries(ctx, w.Webhook.ID, "", 0)
	if err != nil || len(log.Deliveries) != 1 || log.Deliveries[0].EventType != "token.leaked" {
		t.Errorf("deliveries = %+v, %v; want one token.leaked", log, err)
	}
}
