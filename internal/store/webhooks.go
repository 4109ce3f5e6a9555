package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Webhook is an HTTPS endpoint that receives events. Events holds the
// event types it subscribed to; SecretSealed is its signing secret sealed
// under the key-encryption key (package seal): the store never sees it in
// clear.
type Webhook struct {
	ID           string
	URL          string
	Description  string
	Events       []string
	SecretSealed []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event bound for one endpoint: the outbox row and, once
// done, its entry in the endpoint's delivery log. NextAt is when it is
// next due; a claimed delivery's NextAt is pushed past its lease, so a
// node that dies mid-delivery leaves it to be taken again.
type Delivery struct {
	ID           int64
	EndpointID   string
	EventID      int64
	EventType    string
	State        string
	Attempts     int
	NextAt       time.Time
	LastError    string
	ResponseCode int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const webhookCols = `id, url, description, events, secret_sealed, created_at, updated_at`

const deliveryCols = `id, endpoint_id, event_id, event_type, state, attempts, next_at, last_error, response_code, created_at, updated_at`

// frameEvents writes events as ",a,b," so that one LIKE '%,type,%' finds
// a type in either dialect.
func frameEvents(events []string) string { return "," + strings.Join(events, ",") + "," }

func unframeEvents(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateWebhook inserts w and writes ev in one transaction.
func (db *DB) CreateWebhook(ctx context.Context, w Webhook, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (`+webhookCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, w.ID, w.URL, w.Description, frameEvents(w.Events), w.SecretSealed,
			w.CreatedAt.UnixMicro(), w.UpdatedAt.UnixMicro())
		if err != nil {
			if isUniqueViolation(err) {
				return ErrConflict
			}
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create webhook %s: %w", w.ID, err)
	}
	return nil
}

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var events string
	var created, updated int64
	if err := row.Scan(&w.ID, &w.URL, &w.Description, &events, &w.SecretSealed, &created, &updated); err != nil {
		return Webhook{}, notFound(err)
	}
	w.Events = unframeEvents(events)
	w.CreatedAt, w.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return w, nil
}

// WebhookByID returns the endpoint with the given ID, or ErrNotFound.
func (db *DB) WebhookByID(ctx context.Context, id string) (Webhook, error) {
	w, err := scanWebhook(db.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id = $1`, id))
	if err != nil {
		return Webhook{}, fmt.Errorf("webhook %s: %w", id, err)
	}
	return w, nil
}

// ListWebhooks returns up to limit endpoints ordered by ID, after the
// cursor after (an ID; "" starts at the first).
func (db *DB) ListWebhooks(ctx context.Context, after string, limit int) ([]Webhook, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// SetWebhookSecret replaces the sealed secret of endpoint id and writes
// ev, or returns ErrNotFound. Deliveries not yet made are signed with
// the new secret.
func (db *DB) SetWebhookSecret(ctx context.Context, id string, sealed []byte, now time.Time, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret_sealed = $1, updated_at = $2 WHERE id = $3`,
			sealed, now.UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpNotFound(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("set webhook secret %s: %w", id, err)
	}
	return nil
}

// DeleteWebhook deletes endpoint id and its delivery log and writes ev,
// or returns ErrNotFound.
func (db *DB) DeleteWebhook(ctx context.Context, id string, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmpNotFound(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	return nil
}

func cmpNotFound(err error) error {
	if err != nil {
		return err
	}
	return ErrNotFound
}

// webhookTypes are the event types an audit event is delivered as: its
// action, and "token.leaked" for a revocation a leaked-token report made
// (actor "leak_report").
func webhookTypes(ev Event) []string {
	types := []string{ev.Action}
	if ev.Actor == "leak_report" && (ev.Action == "key.revoke" || ev.Action == "pat.revoke") {
		types = append(types, "token.leaked")
	}
	return types
}

// enqueueDeliveries queues event id (written in tx as ev) for every
// endpoint subscribed to one of its types: the outbox rows commit or roll
// back with the change itself.
func enqueueDeliveries(ctx context.Context, tx *sql.Tx, id int64, ev Event) error {
	now := ev.Time.UnixMicro()
	for _, typ := range webhookTypes(ev) {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
	(endpoint_id, event_id, event_type, state, attempts, next_at, last_error, response_code, created_at, updated_at)
SELECT id, $1, $2, 'pending', 0, $3, '', 0, $3, $3 FROM webhook_endpoints WHERE events LIKE $4`,
			id, typ, now, "%,"+typ+",%")
		if err != nil {
			return fmt.Errorf("queue webhook deliveries of %s: %w", typ, err)
		}
	}
	return nil
}

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, created, updated int64
	err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.State, &d.Attempts, &next, &d.LastError,
		&d.ResponseCode, &created, &updated)
	if err != nil {
		return Delivery{}, err
	}
	d.NextAt, d.CreatedAt, d.UpdatedAt = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return d, nil
}

// ClaimDeliveries takes up to limit pending deliveries due at now for
// this node: each one's attempts grow by one and its NextAt moves to
// now+lease, so no other node takes it meanwhile. On PostgreSQL rows that
// another node is claiming are skipped (SKIP LOCKED); SQLite has one
// writer.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	var out []Delivery
	err := db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, next_at = $1, updated_at = $2
WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_at <= $2
	ORDER BY next_at, id LIMIT $3`+db.d.skipLocked+`)
RETURNING `+deliveryCols, now.Add(lease).UnixMicro(), now.UnixMicro(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return out, nil
}

// FinishAttempt records the outcome of one attempt of delivery d: its
// State (pending again with a later NextAt, delivered or failed),
// LastError and ResponseCode.
func (db *DB) FinishAttempt(ctx context.Context, d Delivery, now time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries
SET state = $1, next_at = $2, last_error = $3, response_code = $4, updated_at = $5 WHERE id = $6`,
			d.State, d.NextAt.UnixMicro(), d.LastError, d.ResponseCode, now.UnixMicro(), d.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish webhook delivery %d: %w", d.ID, err)
	}
	return nil
}

// ListDeliveries returns up to limit deliveries of endpoint id, newest
// first, with IDs below before (0: from the newest).
func (db *DB) ListDeliveries(ctx context.Context, endpointID string, before int64, limit int) ([]Delivery, error) {
	var w filter
	w.add("endpoint_id = $?", endpointID)
	if before > 0 {
		w.add("id < $?", before)
	}
	q, args := w.page(`SELECT `+deliveryCols+` FROM webhook_deliveries`, `id DESC`, limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// EventByID returns audit event id, or ErrNotFound (retention may have
// deleted it).
func (db *DB) EventByID(ctx context.Context, id int64) (Event, error) {
	evs, err := db.queryEvents(ctx, `SELECT `+eventCols+` FROM audit_events WHERE id = $1`, []any{id})
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 {
		return Event{}, fmt.Errorf("event %d: %w", id, ErrNotFound)
	}
	return evs[0], nil
}
