// Package audit builds the events of tokend's append-only audit log: who
// (the acting credential and client IP) did what to which record, and the
// settings it changed. Events are written by the store in the same
// transaction as the change they describe; this package shapes them and
// never sees a secret: the views it diffs hold none. Retention deletes
// events once they are older than the configured retention, the only way
// events leave the log.
package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Actor is who performs a change: the id of the authenticating credential
// (or "system" / "cli" for tokend itself) and the client's IP address.
type Actor struct {
	ID string
	IP string
}

// System is the actor of changes tokend makes on its own.
var System = Actor{ID: "system"}

// Change returns the event for action on target, with before and after
// reduced to the top-level fields that differ. Either may be nil (a
// creation has no before, a deletion no after).
func Change(a Actor, now time.Time, action, targetType, targetID string, before, after any) (store.Event, error) {
	b, err := object(before)
	if err != nil {
		return store.Event{}, err
	}
	f, err := object(after)
	if err != nil {
		return store.Event{}, err
	}
	for k, v := range b {
		if w, ok := f[k]; ok && bytes.Equal(v, w) {
			delete(b, k)
			delete(f, k)
		}
	}
	ev := store.Event{Time: now, Actor: a.ID, ClientIP: a.IP, Action: action, TargetType: targetType, TargetID: targetID}
	if ev.Before, err = encode(b, before != nil); err != nil {
		return store.Event{}, err
	}
	if ev.After, err = encode(f, after != nil); err != nil {
		return store.Event{}, err
	}
	return ev, nil
}

func object(v any) (map[string]json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit view: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("audit view is not an object: %w", err)
	}
	for k, v := range m {
		if string(v) == zeroTime {
			delete(m, k) // a time the view cleared (updated_at), not a value
		}
	}
	return m, nil
}

// zeroTime is time.Time{} as JSON: the views clear updated_at, which every
// change moves, so that it does not fill every event's before and after.
const zeroTime = `"0001-01-01T00:00:00Z"`

func encode(m map[string]json.RawMessage, present bool) ([]byte, error) {
	if !present {
		return nil, nil
	}
	return json.Marshal(m)
}
