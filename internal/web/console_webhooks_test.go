package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestConsoleWebhooks: register an endpoint on the form (its secret
// shown once, 201), have a private address, an unknown event and a
// missing URL refused on the form with the field marked and nothing
// stored, read its delivery log a page at a time, rotate its secret
// (shown once), and delete it only with the box ticked.
func TestConsoleWebhooks(t *testing.T) {
	s, a := adminAgent(t)
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		text  string
	}{
		{"private address", url.Values{"url": {"https://127.0.0.1/hook"}, "events": {"key.create"}}, "url", "not a public address"},
		{"plain http", url.Values{"url": {"http://203.0.114.9/hook"}, "events": {"key.create"}}, "url", "URL:"},
		{"no event", url.Values{"url": {"https://203.0.114.9/hook"}}, "events", "Events: is required"},
		{"unknown event", url.Values{"url": {"https://203.0.114.9/hook"}, "events": {"key.eaten"}}, "events", "not an event type"},
	} {
		p := a.post("/admin/webhooks", c.form)
		wantPage(t, c.name, p, 400, c.text, `id="form-error"`)
		if !strings.Contains(p.body, `name="`+c.field+`"`) || !strings.Contains(p.body, `aria-invalid="true"`) {
			t.Errorf("%s: the form does not mark %s", c.name, c.field)
		}
	}
	if ws, _ := s.Webhooks.Webhooks(t.Context(), "", 10); len(ws) != 0 {
		t.Fatalf("refused endpoints were stored: %+v", ws)
	}

	// 203.0.114.9 is a public address nobody answers here; the
	// deliverer does not run in this test, so deliveries stay pending.
	p := a.post("/admin/webhooks", url.Values{"url": {"https://203.0.114.9/hook"}, "events": {"key.create", "key.revoke"},
		"description": {"SIEM"}})
	wantPage(t, "created", p, 201, "signing secret", "keeps it encrypted")
	secret := shownSecret(t, p)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	ws, err := s.Webhooks.Webhooks(t.Context(), "", 10)
	if err != nil || len(ws) != 1 {
		t.Fatalf("Webhooks = %+v, %v", ws, err)
	}
	id := ws[0].ID
	wantPage(t, "list", a.get("/admin/webhooks"), 200, "https://203.0.114.9/hook", "SIEM", "key.revoke", "/admin/webhooks/"+id+"/deliveries")
	if p := a.get("/admin/webhooks/" + id); strings.Contains(p.body, secret) || !strings.Contains(p.body, "Rotate the secret") {
		t.Errorf("endpoint page shows the secret or no rotate button:\n%s", p.body)
	}

	apiRes, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Logs", Audience: "https://logs.example", KeyPrefix: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 55 // more than one page of 50
	for range n {
		if _, err := s.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: apiRes.ID, Subject: "svc"}); err != nil {
			t.Fatal(err)
		}
	}
	first := a.get("/admin/webhooks/" + id + "/deliveries")
	wantPage(t, "delivery log", first, 200, "key.create", "pending", "Older")
	if got := strings.Count(first.body, `<td data-label="Message">`); got != 50 {
		t.Errorf("first page has %d deliveries, want 50", got)
	}
	older := between(first.body, `<a href="/admin/webhooks/`+id+`/deliveries?before=`, `"`)
	if older == "" {
		t.Fatalf("no link to older deliveries:\n%s", first.body)
	}
	second := a.get("/admin/webhooks/" + id + "/deliveries?before=" + older)
	wantPage(t, "older deliveries", second, 200, "Newest")
	if got := strings.Count(second.body, `<td data-label="Message">`); got != n-50 {
		t.Errorf("second page has %d deliveries, want %d", got, n-50)
	}
	wantPage(t, "bad cursor", a.get("/admin/webhooks/"+id+"/deliveries?before=abc"), 400, "not one tokend made")
	wantPage(t, "unknown endpoint", a.get("/admin/webhooks/whk_nope/deliveries"), 404)

	rot := a.post("/admin/webhooks/"+id+"/rotate", nil)
	wantPage(t, "rotated", rot, 200, "new signing secret")
	if s2 := shownSecret(t, rot); s2 == secret || !strings.HasPrefix(s2, "whsec_") {
		t.Errorf("rotation gave %q", s2)
	}
	wantPage(t, "delete unconfirmed", a.post("/admin/webhooks/"+id+"/delete", nil), 400, "tick the box")
	wantRedirect(t, "delete", a.post("/admin/webhooks/"+id+"/delete", url.Values{"confirm": {"yes"}}), "/admin/webhooks?notice=deleted")
	wantPage(t, "after delete", a.get("/admin/webhooks?notice=deleted"), 200, "was deleted", "No endpoint")
	wantPage(t, "deleted", a.get("/admin/webhooks/"+id), 404)
	if strings.Contains(s.Logs.String(), strings.TrimPrefix(secret, "whsec_")) {
		t.Error("the webhook secret is in the server log")
	}
}

// TestConsoleWebhooksAdminOnly: a person without the admin role gets 403
// on the webhook pages and changes nothing, and an admin's browser
// posting from another site is refused (CSRF) with nothing changed.
func TestConsoleWebhooksAdminOnly(t *testing.T) {
	s, admin := adminAgent(t)
	created, err := s.Client.CreateWebhook(t.Context(), api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	id := created.Webhook.ID
	newUser(t, s, "pete", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("pete", alicePW, "/account")
	for _, path := range []string{"/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/" + id, "/admin/webhooks/" + id + "/deliveries"} {
		wantPage(t, path, a.get(path), 403, "for administrators")
	}
	wantPage(t, "delete", a.post("/admin/webhooks/"+id+"/delete", url.Values{"confirm": {"yes"}}), 403)
	wantPage(t, "rotate", a.post("/admin/webhooks/"+id+"/rotate", nil), 403)
	wantPage(t, "create", a.post("/admin/webhooks", url.Values{"url": {"https://203.0.114.9/x"}, "events": {"key.create"}}), 403)
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"},
		"Sec-Fetch-Site": {"cross-site"}}
	for _, path := range []string{"/admin/webhooks/" + id + "/delete", "/admin/webhooks/" + id + "/rotate", "/admin/webhooks"} {
		p := admin.send("POST", path, strings.NewReader("confirm=yes&url=https%3A%2F%2F203.0.114.9%2Fy&events=key.create"), h)
		wantPage(t, "cross-origin "+path, p, 403, "another site")
	}
	ws, err := s.Webhooks.Webhooks(t.Context(), "", 10)
	if err != nil || len(ws) != 1 || ws[0].ID != id || !ws[0].UpdatedAt.Equal(ws[0].CreatedAt) {
		t.Errorf("after refused posts: %+v, %v; want the one endpoint unchanged", ws, err)
	}
}

// between is the text of s after start up to end, "" if absent.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
