package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// Sender is how webhooks reach endpoints; package fetch implements it
// with its SSRF guards (cmd wires it).
type Sender interface {
	// CheckTarget refuses a URL tokend must not call: not https, or on
	// (or resolving to) a non-public address. Its error text is shown
	// to the operator.
	CheckTarget(ctx context.Context, url string) error
	// Post sends body with header and returns the answer's status.
	Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error)
}

// Config configures a Service.
type Config struct {
	// DB holds endpoints and the delivery outbox. Required.
	DB *store.DB
	// KEK seals endpoint secrets. Required.
	KEK []byte
	// Sender checks and calls endpoints. Required.
	Sender Sender
	// MaxAttempts bounds the attempts of one delivery; default 8.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt, doubled after
	// each further one up to MaxBackoff; defaults 30s and 1h.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Poll is how often the Deliverer looks for due deliveries; default 1s.
	Poll time.Duration
	// Workers bounds the deliveries one node makes at once; default 8.
	Workers int
	// Lease is how long a claimed delivery is this node's before another
	// may take it; it must exceed the Sender's timeout. Default 2m.
	Lease  time.Duration
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service manages endpoints and delivers events to them.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New returns a Service for cfg, with defaults filled in.
func New(cfg Config) *Service {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	s := &Service{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	// Times as they are stored (UTC, microseconds), so that the answer
	// of a create or rotation equals every later read of the endpoint.
	now := s.now
	s.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) }
	return s
}

// sealAD binds a sealed secret to its endpoint.
func sealAD(id string) string { return "webhook:" + id }

// Create registers the endpoint req describes and returns it with its
// secret, shown only this once.
func (s *Service) Create(ctx context.Context, by audit.Actor, req api.CreateWebhookRequest) (store.Webhook, string, error) {
	if err := valid.Text("url", req.URL, 1, 2000); err != nil {
		return store.Webhook{}, "", err
	}
	if err := valid.Text("description", req.Description, 0, 200); err != nil {
		return store.Webhook{}, "", err
	}
	events, err := checkEvents(req.Events)
	if err != nil {
		return store.Webhook{}, "", err
	}
	if err := s.cfg.Sender.CheckTarget(ctx, req.URL); err != nil {
		return store.Webhook{}, "", valid.Errorf("url", "%s", err.Error())
	}
	now := s.now()
	w := store.Webhook{ID: ids.New("whk", now), URL: req.URL, Description: req.Description, Events: events,
		CreatedAt: now, UpdatedAt: now}
	key, shown := newSecret()
	if w.SecretSealed, err = seal.Seal(s.cfg.KEK, sealAD(w.ID), key); err != nil {
		return store.Webhook{}, "", err
	}
	ev, err := audit.Change(by, now, "webhook.create", "webhook", w.ID, nil, View(w))
	if err != nil {
		return store.Webhook{}, "", err
	}
	if err := s.cfg.DB.CreateWebhook(ctx, w, ev); err != nil {
		return store.Webhook{}, "", err
	}
	return w, shown, nil
}

// Webhook returns endpoint id, or store.ErrNotFound.
func (s *Service) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	if !ids.Valid("whk", id) {
		return store.Webhook{}, store.ErrNotFound
	}
	return s.cfg.DB.WebhookByID(ctx, id)
}

// Webhooks returns up to limit endpoints after the cursor (an id).
func (s *Service) Webhooks(ctx context.Context, cursor string, limit int) ([]store.Webhook, error) {
	return s.cfg.DB.ListWebhooks(ctx, cursor, limit)
}

// RotateSecret gives endpoint id a new secret, shown only this once;
// deliveries not yet sent are signed with it.
func (s *Service) RotateSecret(ctx context.Context, by audit.Actor, id string) (store.Webhook, string, error) {
	w, err := s.Webhook(ctx, id)
	if err != nil {
		return store.Webhook{}, "", err
	}
	key, shown := newSecret()
	sealed, err := seal.Seal(s.cfg.KEK, sealAD(w.ID), key)
	if err != nil {
		return store.Webhook{}, "", err
	}
	now := s.now()
	ev, err := audit.Change(by, now, "webhook.rotate_secret", "webhook", w.ID, nil, nil)
	if err != nil {
		return store.Webhook{}, "", err
	}
	if err := s.cfg.DB.SetWebhookSecret(ctx, w.ID, sealed, now, ev); err != nil {
		return store.Webhook{}, "", err
	}
	w.SecretSealed, w.UpdatedAt = sealed, now
	return w, shown, nil
}

// Delete removes endpoint id and its delivery log.
func (s *Service) Delete(ctx context.Context, by audit.Actor, id string) error {
	w, err := s.Webhook(ctx, id)
	if err != nil {
		return err
	}
	ev, err := audit.Change(by, s.now(), "webhook.delete", "webhook", w.ID, View(w), nil)
	if err != nil {
		return err
	}
	return s.cfg.DB.DeleteWebhook(ctx, w.ID, ev)
}

// Deliveries returns up to limit entries of endpoint id's delivery log,
// newest first, before the cursor (a delivery id, as MessageID writes
// it; "" from the newest; anything else is store.ErrBadCursor).
func (s *Service) Deliveries(ctx context.Context, id, cursor string, limit int) ([]store.Delivery, error) {
	if _, err := s.Webhook(ctx, id); err != nil {
		return nil, err
	}
	var before int64
	if cursor != "" {
		n, ok := strings.CutPrefix(cursor, msgPrefix)
		var err error
		if before, err = store.SeqCursor(n); err != nil || !ok {
			return nil, store.ErrBadCursor
		}
	}
	return s.cfg.DB.ListDeliveries(ctx, id, before, limit)
}

// msgPrefix starts a delivery's public id, its webhook-id header.
const msgPrefix = "msg_"

// MessageID is the public id of delivery d: its webhook-id header.
func MessageID(d store.Delivery) string { return msgPrefix + strconv.FormatInt(d.ID, 10) }

// View is endpoint w as the API shows it, without its secret.
func View(w store.Webhook) api.Webhook {
	return api.Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Description: w.Description, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// DeliveryView is delivery d as the delivery log shows it.
func DeliveryView(d store.Delivery) api.WebhookDelivery {
	v := api.WebhookDelivery{ID: MessageID(d), EventID: d.EventID, EventType: d.EventType, State: d.State,
		Attempts: d.Attempts, ResponseCode: d.ResponseCode, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if d.State == store.DeliveryPending {
		v.NextAttempt = d.NextAt
	}
	return v
}

// errGone is a delivery whose event or endpoint no longer exists.
var errGone = errors.New("gone")

func gone(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s no longer exists: %w", what, errGone)
	}
	return err
}
