package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const eventCols = `id, occurred_at, actor, action, target_type, target_id, client_ip, before_json, after_json`

// insertEvent writes ev in tx; the database assigns its ID. It is where
// every audit event is written, so it also queues the event's webhook
// deliveries (webhooks.go), in the same transaction.
func insertEvent(ctx context.Context, tx *sql.Tx, ev Event) error {
	at, err := mustTime("event time", ev.Time)
	if err != nil {
		return err
	}
	before, err := jsonText("event before", ev.Before)
	if err != nil {
		return err
	}
	after, err := jsonText("event after", ev.After)
	if err != nil {
		return err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO audit_events
	(occurred_at, actor, action, target_type, target_id, client_ip, before_json, after_json)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		at, ev.Actor, ev.Action, ev.TargetType, ev.TargetID, ev.ClientIP, before, after).Scan(&id)
	if err != nil {
		return fmt.Errorf("insert event %s: %w", ev.Action, err)
	}
	return enqueueDeliveries(ctx, tx, id, ev)
}

// AppendEvent writes ev on its own, for events that accompany no other
// change (a failed admin login, say). ev.ID is ignored.
func (db *DB) AppendEvent(ctx context.Context, ev Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error { return insertEvent(ctx, tx, ev) })
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	return nil
}

// ListEvents returns up to f.Limit events, newest first, matching every
// field of f that is set. Since is inclusive and Until exclusive.
func (db *DB) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("list events: limit %d is less than 1", f.Limit)
	}
	var w filter
	for _, c := range []struct{ col, val string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target_type", f.TargetType}, {"target_id", f.TargetID},
	} {
		if c.val != "" {
			w.add(c.col+" = $?", c.val)
		}
	}
	if !f.Since.IsZero() {
		w.add("occurred_at >= $?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		w.add("occurred_at < $?", f.Until.UnixMicro())
	}
	if f.Before > 0 {
		w.add("id < $?", f.Before)
	}
	q, args := w.page(`SELECT `+eventCols+` FROM audit_events`, `id DESC`, f.Limit)
	return db.queryEvents(ctx, q, args)
}

func (db *DB) queryEvents(ctx context.Context, q string, args []any) ([]Event, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var at sql.NullInt64
		var before, after sql.NullString
		err := rows.Scan(&ev.ID, &at, &ev.Actor, &ev.Action, &ev.TargetType, &ev.TargetID, &ev.ClientIP, &before, &after)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		ev.Time, ev.Before, ev.After = fromMicros(at), fromJSONText(before), fromJSONText(after)
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// DeleteEventsBefore deletes up to batch of the oldest events that
// occurred before cutoff, in one short transaction, and returns how many
// went; call it again until it returns 0. It is the audit retention: no
// other write removes events.
func (db *DB) DeleteEventsBefore(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	if batch < 1 {
		return 0, fmt.Errorf("delete events: batch %d is less than 1", batch)
	}
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE id IN
	(SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY id LIMIT $2)`, cutoff.UnixMicro(), batch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete events: %w", err)
	}
	return n, nil
}
