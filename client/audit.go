package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
)

// AuditFilter selects and pages audit events for [Client.ListAudit]. Zero
// fields are not sent.
type AuditFilter struct {
	Actor      string    // who acted
	Action     string    // what was done, as the events name it
	TargetType string    // the kind of thing acted on
	TargetID   string    // the ID of the thing acted on
	Since      time.Time // events at or after this time
	Until      time.Time // events before this time
	Cursor     string    // the NextCursor of the previous page
	Limit      int       // page size; zero means the server's default
}

func (f AuditFilter) query() url.Values {
	q := url.Values{}
	set(q, "actor", f.Actor)
	set(q, "action", f.Action)
	set(q, "target_type", f.TargetType)
	set(q, "target_id", f.TargetID)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	set(q, "cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// ListAudit returns one page of audit events, newest first. NextCursor is
// empty on the last page.
func (c *Client) ListAudit(ctx context.Context, f AuditFilter) (*api.AuditList, error) {
	return call[api.AuditList](ctx, c, http.MethodGet, "/v1/audit", f.query(), nil)
}
