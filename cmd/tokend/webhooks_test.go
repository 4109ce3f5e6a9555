package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestWebhooksCLI drives "tokend webhooks" against a real server that
// delivers to a real receiver (plain http on 127.0.0.1, which
// --webhooks-insecure-allow-private allows): the secret is printed once
// at creation and rotation, the delivery made after the rotation is
// signed with the new secret and shows in the delivery log, and bad
// input is refused with the documented exit codes.
func TestWebhooksCLI(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	url, admin, logs, _ := startServe(t, t.TempDir(), "--webhooks-insecure-allow-private")

	var l api.WebhookList
	mustJSON(t, cli(t, url, admin, 0, "webhooks", "list", "--json"), &l)
	if len(l.Webhooks) != 0 || !slices.Contains(l.EventTypes, "pat.expiring") {
		t.Fatalf("webhooks list = %+v", l)
	}
	cli(t, url, admin, exitUsage, "webhooks", "create", rcv.URL)
	cli(t, url, admin, exitUsage, "webhooks", "create", "--events", "key.create")
	cli(t, url, admin, exitError, "webhooks", "create", rcv.URL, "--events", "key.eaten")
	cli(t, url, admin, exitError, "webhooks", "create", "ftp://example.com/x", "--events", "key.create")

	out := cli(t, url, admin, 0, "webhooks", "create", rcv.URL+"/hook", "--events", "key.create,webhook.rotate_secret",
		"--description", "SIEM")
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(out)
	id := regexp.MustCompile(`whk_[0-9A-Za-z]+`).FindString(out)
	if secret == "" || id == "" || !strings.Contains(out, "shown once") || !strings.Contains(out, "SIEM") {
		t.Fatalf("webhooks create printed:\n%s", out)
	}
	if out := cli(t, url, admin, 0, "webhooks", "show", id); strings.Contains(out, "whsec_") || !strings.Contains(out, "webhook.rotate_secret") {
		t.Errorf("webhooks show printed:\n%s", out)
	}
	if out := cli(t, url, admin, 0, "webhooks", "list"); !strings.Contains(out, id) || !strings.Contains(out, "event types:") {
		t.Errorf("webhooks list printed:\n%s", out)
	}
	var rot api.CreatedWebhook
	mustJSON(t, cli(t, url, admin, 0, "webhooks", "rotate-secret", "--json", id), &rot)
	if rot.Secret == secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Fatalf("rotate-secret gave %q", rot.Secret)
	}

	var log api.WebhookDeliveryList
	for i := 0; ; i++ { // serve's deliverer polls every second; a bound on the wait, not a timing assertion
		mustJSON(t, cli(t, url, admin, 0, "webhooks", "deliveries", "--json", id), &log)
		if len(log.Deliveries) == 1 && log.Deliveries[0].State == "delivered" {
			break
		}
		if i == 600 {
			t.Fatalf("no delivery after 30s: %+v", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d := log.Deliveries[0]; d.EventType != "webhook.rotate_secret" || d.Attempts != 1 || d.ResponseCode != 200 {
		t.Errorf("delivery = %+v", d)
	}
	if out := cli(t, url, admin, 0, "webhooks", "deliveries", id); !strings.Contains(out, "delivered") || !strings.Contains(out, "200") {
		t.Errorf("webhooks deliveries printed:\n%s", out)
	}
	mu.Lock()
	if len(got) != 1 || got[0].URL.Path != "/hook" || !standardSignatureOK(rot.Secret, got[0].Header, bodies[0]) {
		t.Errorf("receiver got %d requests; the first not signed with the rotated secret", len(got))
	}
	mu.Unlock()

	if out := cli(t, url, admin, 0, "webhooks", "delete", id); !strings.Contains(out, "deleted webhook "+id) {
		t.Errorf("webhooks delete printed %q", out)
	}
	cli(t, url, admin, exitNotFound, "webhooks", "show", id)
	cli(t, url, admin, exitNotFound, "webhooks", "deliveries", id)
	cli(t, url, admin, exitUsage, "webhooks", "show")
	for _, s := range []string{secret, rot.Secret} {
		if strings.Contains(logs.String(), strings.TrimPrefix(s, "whsec_")) {
			t.Error("a webhook secret is in the server log")
		}
	}
}

// standardSignatureOK checks a Standard Webhooks signature, written here
// from the spec: HMAC-SHA256 of "id.timestamp.body" under the base64
// key after "whsec_".
func standardSignatureOK(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return slices.Contains(strings.Fields(h.Get("webhook-signature")), want)
}
