package server

import (
	"context"
	"fmt"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/webhook"
)

// The management API of event webhooks, /v1/webhooks. Without a
// webhook service its endpoints answer 404.

var errWebhooksOff = fmt.Errorf("webhooks are off: %w", store.ErrNotFound)

func (s *Server) createWebhook(ctx context.Context, c call, req *api.CreateWebhookRequest) (api.CreatedWebhook, error) {
	if s.webhooks == nil {
		return api.CreatedWebhook{}, errWebhooksOff
	}
	w, secret, err := s.webhooks.Create(ctx, c.by(), *req)
	return api.CreatedWebhook{Webhook: webhook.View(w), Secret: secret}, err
}

func (s *Server) listWebhooks(ctx context.Context, c call, _ *none) (api.WebhookList, error) {
	if s.webhooks == nil {
		return api.WebhookList{}, errWebhooksOff
	}
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.WebhookList{}, err
	}
	after, err := idCursor(c.r, store.WebhookIDs)
	if err != nil {
		return api.WebhookList{}, err
	}
	ws, err := s.webhooks.Webhooks(ctx, after, limit+1)
	out := api.WebhookList{Webhooks: make([]api.Webhook, 0, min(len(ws), limit)), EventTypes: webhook.EventTypes}
	for i, w := range ws {
		if i == limit {
			out.NextCursor = ws[i-1].ID
			break
		}
		out.Webhooks = append(out.Webhooks, webhook.View(w))
	}
	return out, err
}

func (s *Server) getWebhook(ctx context.Context, c call, _ *none) (api.Webhook, error) {
	if s.webhooks == nil {
		return api.Webhook{}, errWebhooksOff
	}
	w, err := s.webhooks.Webhook(ctx, c.r.PathValue("id"))
	return webhook.View(w), err
}

func (s *Server) rotateWebhookSecret(ctx context.Context, c call, _ *none) (api.CreatedWebhook, error) {
	if s.webhooks == nil {
		return api.CreatedWebhook{}, errWebhooksOff
	}
	w, secret, err := s.webhooks.RotateSecret(ctx, c.by(), c.r.PathValue("id"))
	return api.CreatedWebhook{Webhook: webhook.View(w), Secret: secret}, err
}

func (s *Server) deleteWebhook(ctx context.Context, c call, _ *none) (none, error) {
	if s.webhooks == nil {
		return none{}, errWebhooksOff
	}
	return none{}, s.webhooks.Delete(ctx, c.by(), c.r.PathValue("id"))
}

func (s *Server) listWebhookDeliveries(ctx context.Context, c call, _ *none) (api.WebhookDeliveryList, error) {
	if s.webhooks == nil {
		return api.WebhookDeliveryList{}, errWebhooksOff
	}
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.WebhookDeliveryList{}, err
	}
	ds, err := s.webhooks.Deliveries(ctx, c.r.PathValue("id"), c.r.URL.Query().Get("cursor"), limit+1)
	out := api.WebhookDeliveryList{Deliveries: make([]api.WebhookDelivery, 0, min(len(ds), limit))}
	for i, d := range ds {
		if i == limit {
			out.NextCursor = webhook.MessageID(ds[i-1])
			break
		}
		out.Deliveries = append(out.Deliveries, webhook.DeliveryView(d))
	}
	return out, err
}
