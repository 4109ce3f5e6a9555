package server

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// listAudit answers GET /v1/audit, newest first, filtered by actor,
// action, target_type, target_id and an RFC 3339 since/until window.
func (s *Server) listAudit(ctx context.Context, c call, _ *none) (api.AuditList, error) {
	q := c.r.URL.Query()
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.AuditList{}, err
	}
	f := store.EventFilter{Actor: q.Get("actor"), Action: q.Get("action"), TargetType: q.Get("target_type"),
		TargetID: q.Get("target_id"), Limit: limit + 1}
	if f.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return api.AuditList{}, err
	}
	if f.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return api.AuditList{}, err
	}
	if cur := q.Get("cursor"); cur != "" {
		if f.Before, err = store.SeqCursor(cur); err != nil {
			return api.AuditList{}, err
		}
	}
	evs, err := s.audit.Events(ctx, f)
	out := api.AuditList{Events: make([]api.AuditEvent, 0, min(len(evs), limit))}
	for i, e := range evs {
		if i == limit {
			out.NextCursor = strconv.FormatInt(evs[i-1].ID, 10)
			break
		}
		out.Events = append(out.Events, eventView(e))
	}
	return out, err
}

func queryTime(v, field string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, valid.Errorf(field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

func eventView(e store.Event) api.AuditEvent {
	return api.AuditEvent{ID: strconv.FormatInt(e.ID, 10), Time: e.Time, Actor: e.Actor, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, ClientIP: e.ClientIP,
		Before: json.RawMessage(e.Before), After: json.RawMessage(e.After)}
}
