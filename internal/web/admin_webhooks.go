package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
	"github.com/tokend/tokend/internal/webhook"
)

// The console pages of event webhooks (/admin/webhooks…): the list of
// endpoints with cursor pages, register one (its signing secret shown
// once), an endpoint's page (rotate the secret, shown once; delete), and
// its delivery log with cursor pages: each event's state, attempts, last
// answer, last error and next attempt. They call package webhook as the
// /v1/webhooks endpoints do.

// webhookNotices are the confirmations of the webhook pages (?notice=…).
var webhookNotices = map[string]string{
	"deleted": "The endpoint was deleted with its delivery log.",
}

// webhooksView is the list of endpoints.
type webhooksView struct {
	frame
	Webhooks []api.Webhook
	After    string
	Next     string
	Notice   string
}

// listWebhooks answers GET /admin/webhooks?after=.
func (s *Site) listWebhooks(w http.ResponseWriter, r *http.Request, v visitor) {
	after := r.URL.Query().Get("after")
	err := store.CheckIDCursor(after, store.WebhookIDs)
	var ws []store.Webhook
	if err == nil {
		ws, err = s.webhooks.Webhooks(r.Context(), after, consolePageSize+1)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := webhooksView{frame: s.adminFrame(r, "Webhooks", tabHooks, v), After: after,
		Notice: webhookNotices[r.URL.Query().Get("notice")]}
	ws, view.Next = onePage(ws, func(last store.Webhook) string {
		return pageLink("/admin/webhooks", url.Values{"after": {last.ID}})
	})
	for _, x := range ws {
		view.Webhooks = append(view.Webhooks, webhook.View(x))
	}
	s.render(w, r, http.StatusOK, pageWebhooks, view)
}

// webhookForm is the new-endpoint form as typed.
type webhookForm struct {
	URL, Description string
	Events           []string
}

// webhookView is an endpoint's page (ID set) or the new-endpoint form.
type webhookView struct {
	frame
	ID      string
	Webhook api.Webhook
	Form    webhookForm
	Types   []string
	Problem formProblem
}

func (s *Site) renderWebhook(w http.ResponseWriter, r *http.Request, status int, v visitor, wv webhookView) {
	title := "New webhook endpoint"
	if wv.ID != "" {
		title = endpointTitle(wv.Webhook)
	}
	wv.frame, wv.Types = s.adminFrame(r, title, tabHooks, v), webhook.EventTypes
	s.render(w, r, status, pageWebhook, wv)
}

// newWebhookForm answers GET /admin/webhooks/new.
func (s *Site) newWebhookForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderWebhook(w, r, http.StatusOK, v, webhookView{})
}

// showWebhook answers GET /admin/webhooks/{id}.
func (s *Site) showWebhook(w http.ResponseWriter, r *http.Request, v visitor) {
	x, err := s.webhooks.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWebhook(w, r, http.StatusOK, v, webhookView{ID: x.ID, Webhook: webhook.View(x)})
}

// createWebhook answers POST /admin/webhooks: the secret is shown once,
// in the answer to this POST.
func (s *Site) createWebhook(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := webhookForm{URL: strings.TrimSpace(f.Get("url")), Description: strings.TrimSpace(f.Get("description")), Events: f["events"]}
	x, secret, err := s.webhooks.Create(r.Context(), s.actor(r, v),
		api.CreateWebhookRequest{URL: form.URL, Events: form.Events, Description: form.Description})
	if err != nil {
		s.refuseWebhook(w, r, v, webhookView{Form: form}, err)
		return
	}
	s.renderSecret(w, r, http.StatusCreated, v, tabHooks, secretView{What: "signing secret", Secret: secret, Sealed: true,
		Back: "/admin/webhooks/" + url.PathEscape(x.ID), BackLabel: "The endpoint's page",
		Notice: "The endpoint " + x.ID + " was registered. Give its receiver this secret to check signatures with."})
}

// rotateWebhook answers POST /admin/webhooks/{id}/rotate: a new secret,
// shown once; every later delivery, retries included, is signed with it.
func (s *Site) rotateWebhook(w http.ResponseWriter, r *http.Request, v visitor) {
	if _, err := readForm(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	_, secret, err := s.webhooks.RotateSecret(r.Context(), s.actor(r, v), id)
	if err != nil {
		s.refuseWebhookAction(w, r, v, id, err)
		return
	}
	s.renderSecret(w, r, http.StatusOK, v, tabHooks, secretView{What: "signing secret", Secret: secret, Sealed: true,
		Back: "/admin/webhooks/" + url.PathEscape(id), BackLabel: "The endpoint's page",
		Notice: "The endpoint has a new signing secret: deliveries from now on, retries included, are signed with it."})
}

// deleteWebhook answers POST /admin/webhooks/{id}/delete, with the
// confirm box.
func (s *Site) deleteWebhook(w http.ResponseWriter, r *http.Request, v visitor) {
	id := r.PathValue("id")
	s.deleteConfirmed(w, r, valid.Errorf("confirm", "tick the box to confirm that the endpoint and its delivery log are to be deleted"),
		func() error { return s.webhooks.Delete(r.Context(), s.actor(r, v), id) },
		func(err error) { s.refuseWebhookAction(w, r, v, id, err) }, "/admin/webhooks?notice=deleted")
}

// refuseWebhookAction shows the endpoint's page with the reason an
// action was refused.
func (s *Site) refuseWebhookAction(w http.ResponseWriter, r *http.Request, v visitor, id string, err error) {
	x, gerr := s.webhooks.Webhook(r.Context(), id)
	if gerr != nil {
		s.fail(w, r, gerr)
		return
	}
	s.refuseWebhook(w, r, v, webhookView{ID: id, Webhook: webhook.View(x)}, err)
}

func (s *Site) refuseWebhook(w http.ResponseWriter, r *http.Request, v visitor, wv webhookView, err error) {
	if p, status, ok := s.refusal(w, r, err); ok {
		wv.Problem = p
		s.renderWebhook(w, r, status, v, wv)
	}
}

// deliveriesView is an endpoint's delivery log, newest first.
type deliveriesView struct {
	frame
	Webhook    api.Webhook
	Deliveries []api.WebhookDelivery
	Before     string // the cursor of this page, "" on the first
	Next       string // the link to the next (older) page, "" on the last
}

// listDeliveries answers GET /admin/webhooks/{id}/deliveries?before=.
func (s *Site) listDeliveries(w http.ResponseWriter, r *http.Request, v visitor) {
	id, before := r.PathValue("id"), r.URL.Query().Get("before")
	x, err := s.webhooks.Webhook(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.webhooks.Deliveries(r.Context(), id, before, consolePageSize+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := "/admin/webhooks/" + url.PathEscape(id) + "/deliveries"
	view := deliveriesView{frame: s.adminFrame(r, "Delivery log", tabHooks, v), Webhook: webhook.View(x), Before: before}
	ds, view.Next = onePage(ds, func(last store.Delivery) string {
		return pageLink(base, url.Values{"before": {webhook.MessageID(last)}})
	})
	for _, d := range ds {
		view.Deliveries = append(view.Deliveries, webhook.DeliveryView(d))
	}
	s.render(w, r, http.StatusOK, pageDeliveries, view)
}

// endpointTitle names an endpoint in a page's heading: its description,
// else its URL's host (an id or a whole URL overflows a phone's width).
func endpointTitle(w api.Webhook) string {
	if w.Description != "" {
		return w.Description
	}
	if u, err := url.Parse(w.URL); err == nil && u.Host != "" {
		return "Endpoint at " + u.Host
	}
	return "Webhook endpoint"
}
