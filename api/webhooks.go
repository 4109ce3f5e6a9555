package api

import "time"

// CreateWebhookRequest is the body of POST /v1/webhooks. URL must be
// https on a public address; Events lists event types (GET /v1/webhooks
// answers them in WebhookList.EventTypes).
type CreateWebhookRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
}

// Webhook is an endpoint that receives signed events. Its secret is
// never part of it.
type Webhook struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CreatedWebhook is the answer of POST /v1/webhooks and of
// POST /v1/webhooks/{id}/rotate-secret: the endpoint and its signing
// secret (whsec_…), shown only this once.
type CreatedWebhook struct {
	Webhook Webhook `json:"webhook"`
	Secret  string  `json:"secret"`
}

// WebhookList is a page of GET /v1/webhooks, with the event types an
// endpoint may subscribe to. NextCursor is empty on the last page.
type WebhookList struct {
	Webhooks   []Webhook `json:"webhooks"`
	EventTypes []string  `json:"event_types"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// WebhookDelivery is one event bound for one endpoint, as its delivery
// log shows it. State is pending (queued or waiting to retry), delivered
// (the endpoint answered 2xx) or failed (every attempt failed).
// ResponseCode is the last answer's status, 0 if none came.
type WebhookDelivery struct {
	ID           string    `json:"id"`
	EventID      int64     `json:"event_id"`
	EventType    string    `json:"event_type"`
	State        string    `json:"state"`
	Attempts     int       `json:"attempts"`
	ResponseCode int       `json:"response_code"`
	LastError    string    `json:"last_error,omitempty"`
	NextAttempt  time.Time `json:"next_attempt_at,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// WebhookDeliveryList is a page of GET /v1/webhooks/{id}/deliveries,
// newest first.
type WebhookDeliveryList struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	NextCursor string            `json:"next_cursor,omitempty"`
}
