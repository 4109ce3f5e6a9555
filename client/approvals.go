package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// ListApprovals returns a page of the credentials held for an
// administrator's approval in state (api.ApprovalPending, "" for the
// same, api.ApprovalApproved or api.ApprovalDenied), oldest first, after
// cursor ("" for the first page), at most limit (0 for the server's
// default).
func (c *Client) ListApprovals(ctx context.Context, state, cursor string, limit int) (*api.ApprovalList, error) {
	q := url.Values{}
	set(q, "state", state)
	set(q, "cursor", cursor)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return call[api.ApprovalList](ctx, c, http.MethodGet, "/v1/approvals", q, nil)
}

// GetApproval returns the approval of the credential id (a personal
// access token's or a client's id), or an *api.Problem with code
// api.ErrNotFound when it needed none.
func (c *Client) GetApproval(ctx context.Context, id string) (*api.Approval, error) {
	seg, err := segment("approval", id)
	if err != nil {
		return nil, err
	}
	return call[api.Approval](ctx, c, http.MethodGet, "/v1/approvals/"+seg, nil, nil)
}

// Approve approves the pending credential id; reason may be empty. The
// token verifies, or the client may get tokens, from then on.
func (c *Client) Approve(ctx context.Context, id, reason string) (*api.Approval, error) {
	return c.decide(ctx, id, "approve", reason)
}

// Deny denies the pending credential id for reason, which its owner is
// shown. A denied token is revoked; a denied client gets no token.
func (c *Client) Deny(ctx context.Context, id, reason string) (*api.Approval, error) {
	return c.decide(ctx, id, "deny", reason)
}

func (c *Client) decide(ctx context.Context, id, verb, reason string) (*api.Approval, error) {
	seg, err := segment("approval", id)
	if err != nil {
		return nil, err
	}
	return call[api.Approval](ctx, c, http.MethodPost, "/v1/approvals/"+seg+"/"+verb, nil, api.DecideApprovalRequest{Reason: reason})
}
