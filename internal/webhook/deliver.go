package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/store"
)

// Run delivers due events every Poll until ctx ends. Each node runs
// one; the store's claim gives every delivery to one node at a time.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "webhook deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt of every delivery due now, Workers at a
// time, and returns how many attempts it made. Failures are recorded in
// the delivery log, not returned; the error is the store's.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		ds, err := s.cfg.DB.ClaimDeliveries(ctx, s.now(), s.cfg.Lease, s.cfg.Workers)
		if err != nil || len(ds) == 0 {
			return total, err
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { s.attempt(ctx, d) })
		}
		wg.Wait()
		total += len(ds)
	}
	return total, nil
}

// attempt sends d once and records the outcome: delivered on a 2xx,
// else pending again after the backoff, or failed after MaxAttempts (or
// at once when its endpoint or event is gone).
func (s *Service) attempt(ctx context.Context, d store.Delivery) {
	code, err := s.send(ctx, d)
	d.ResponseCode, d.LastError = code, ""
	switch {
	case err == nil && code >= 200 && code < 300:
		d.State = store.DeliveryDelivered
	case errors.Is(err, errGone):
		d.State, d.LastError = store.DeliveryFailed, err.Error()
	default:
		if err != nil {
			d.LastError = err.Error()
		} else {
			d.LastError = fmt.Sprintf("the endpoint answered %d", code)
		}
		d.State, d.NextAt = store.DeliveryPending, s.now().Add(s.backoff(d.Attempts))
		if d.Attempts >= s.cfg.MaxAttempts {
			d.State = store.DeliveryFailed
		}
	}
	if err := s.cfg.DB.FinishAttempt(context.WithoutCancel(ctx), d, s.now()); err != nil {
		s.log.WarnContext(ctx, "webhook delivery outcome not recorded", "delivery", d.ID, "err", err)
	}
}

// backoff is the wait after failed attempt n (1-based): Backoff doubled
// n-1 times, at most MaxBackoff.
func (s *Service) backoff(n int) time.Duration {
	b := s.cfg.Backoff
	for i := 1; i < n && b < s.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, s.cfg.MaxBackoff)
}

// send signs and posts d's event to its endpoint.
func (s *Service) send(ctx context.Context, d store.Delivery) (int, error) {
	w, err := s.cfg.DB.WebhookByID(ctx, d.EndpointID)
	if err != nil {
		return 0, gone("the endpoint", err)
	}
	ev, err := s.cfg.DB.EventByID(ctx, d.EventID)
	if err != nil {
		return 0, gone("the audit event", err)
	}
	key, err := seal.Open(s.cfg.KEK, sealAD(w.ID), w.SecretSealed)
	if err != nil {
		return 0, fmt.Errorf("the endpoint's secret cannot be opened: %w", err)
	}
	body, err := Payload(d.EventType, ev)
	if err != nil {
		return 0, err
	}
	now := s.now()
	h := Headers(key, MessageID(d), now, body)
	if err := signRFC9421(h, w.ID, w.URL, key, now, body); err != nil {
		return 0, err
	}
	return s.cfg.Sender.Post(ctx, w.URL, h, body)
}

// payload is the body of a delivery, in Standard Webhooks' recommended
// shape: type, timestamp and data.
type payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      eventData `json:"data"`
}

type eventData struct {
	EventID    int64           `json:"event_id"`
	Action     string          `json:"action"`
	Actor      string          `json:"actor"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// Payload is the JSON body delivered for ev as event type typ: the same
// bytes on every attempt, so a retry carries the same signed content.
// Audit events hold no secret, so neither does the payload.
func Payload(typ string, ev store.Event) ([]byte, error) {
	return json.Marshal(payload{Type: typ, Timestamp: ev.Time.UTC(), Data: eventData{EventID: ev.ID, Action: ev.Action,
		Actor: ev.Actor, TargetType: ev.TargetType, TargetID: ev.TargetID, Before: ev.Before, After: ev.After}})
}
