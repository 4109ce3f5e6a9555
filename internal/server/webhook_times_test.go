package server_test

import (
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestWebhookTimesAsStored: the answers of creating a webhook endpoint
// and of rotating its secret carry the times as stored (UTC,
// microseconds), so they equal what every later read of the endpoint
// answers; they used to carry nanoseconds the database does not keep.
func TestWebhookTimesAsStored(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.Clock.Advance(123456789 * time.Nanosecond)
	created, err := f.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Client.GetWebhook(ctx, created.Webhook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !created.Webhook.CreatedAt.Equal(got.CreatedAt) || !created.Webhook.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("create answered %s / %s, a read %s / %s", created.Webhook.CreatedAt, created.Webhook.UpdatedAt, got.CreatedAt, got.UpdatedAt)
	}
	f.Clock.Advance(time.Second + 987654321*time.Nanosecond)
	rot, err := f.Client.RotateWebhookSecret(ctx, created.Webhook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = f.Client.GetWebhook(ctx, created.Webhook.ID); err != nil || !rot.Webhook.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("rotation answered updated_at %s, a read %s (%v)", rot.Webhook.UpdatedAt, got.UpdatedAt, err)
	}
}
