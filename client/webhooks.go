package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// CreateWebhook registers an endpoint for events. The answer holds its
// signing secret (whsec_…), which is shown only this once.
func (c *Client) CreateWebhook(ctx context.Context, req api.CreateWebhookRequest) (*api.CreatedWebhook, error) {
	return call[api.CreatedWebhook](ctx, c, http.MethodPost, "/v1/webhooks", nil, req)
}

func pageQuery(cursor string, limit int) url.Values {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}

// ListWebhooks returns a page of endpoints after cursor ("" for the
// first page), at most limit (0 for the server's default), and the event
// types an endpoint may subscribe to.
func (c *Client) ListWebhooks(ctx context.Context, cursor string, limit int) (*api.WebhookList, error) {
	return call[api.WebhookList](ctx, c, http.MethodGet, "/v1/webhooks", pageQuery(cursor, limit), nil)
}

// GetWebhook returns the endpoint with the given ID, or an *api.Problem
// with code api.ErrNotFound.
func (c *Client) GetWebhook(ctx context.Context, id string) (*api.Webhook, error) {
	seg, err := segment("webhook", id)
	if err != nil {
		return nil, err
	}
	return call[api.Webhook](ctx, c, http.MethodGet, "/v1/webhooks/"+seg, nil, nil)
}

// RotateWebhookSecret gives the endpoint a new secret, shown only this
// once; deliveries from now on are signed with it.
func (c *Client) RotateWebhookSecret(ctx context.Context, id string) (*api.CreatedWebhook, error) {
	seg, err := segment("webhook", id)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedWebhook](ctx, c, http.MethodPost, "/v1/webhooks/"+seg+"/rotate-secret", nil, nil)
}

// DeleteWebhook deletes the endpoint and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	seg, err := segment("webhook", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/webhooks/"+seg, nil, nil, nil)
}

// ListWebhookDeliveries returns a page of the endpoint's delivery log,
// newest first, after cursor ("" for the newest).
func (c *Client) ListWebhookDeliveries(ctx context.Context, id, cursor string, limit int) (*api.WebhookDeliveryList, error) {
	seg, err := segment("webhook", id)
	if err != nil {
		return nil, err
	}
	return call[api.WebhookDeliveryList](ctx, c, http.MethodGet, "/v1/webhooks/"+seg+"/deliveries", pageQuery(cursor, limit), nil)
}
