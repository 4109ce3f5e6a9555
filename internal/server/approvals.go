package server

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/store"
)

// The approval step (package approval): administrators list the
// personal access tokens and dynamically registered clients an API's
// policy holds for a decision, and approve or deny each with a reason.

// listApprovals answers GET /v1/approvals?state=&cursor=&limit=: pending
// ones unless state says approved or denied, oldest first.
func (s *Server) listApprovals(ctx context.Context, c call, _ *none) (api.ApprovalList, error) {
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.ApprovalList{}, err
	}
	q := c.r.URL.Query()
	items, err := s.approvals.List(ctx, q.Get("state"), q.Get("cursor"), limit+1)
	if err != nil {
		return api.ApprovalList{}, err
	}
	out := api.ApprovalList{Approvals: make([]api.Approval, 0, min(len(items), limit))}
	for i, it := range items {
		if i == limit {
			out.NextCursor = store.ApprovalCursor(items[i-1])
			break
		}
		out.Approvals = append(out.Approvals, approval.View(it, s.keys.Now()))
	}
	return out, nil
}

// getApproval answers GET /v1/approvals/{id}.
func (s *Server) getApproval(ctx context.Context, c call, _ *none) (api.Approval, error) {
	it, err := s.approvals.Get(ctx, c.r.PathValue("id"))
	if err != nil {
		return api.Approval{}, err
	}
	return approval.View(it, s.keys.Now()), nil
}

// approve answers POST /v1/approvals/{id}/approve.
func (s *Server) approve(ctx context.Context, c call, req *api.DecideApprovalRequest) (api.Approval, error) {
	it, err := s.approvals.Approve(ctx, c.by(), c.r.PathValue("id"), req.Reason)
	if err != nil {
		return api.Approval{}, err
	}
	return approval.View(it, s.keys.Now()), nil
}

// deny answers POST /v1/approvals/{id}/deny.
func (s *Server) deny(ctx context.Context, c call, req *api.DecideApprovalRequest) (api.Approval, error) {
	it, err := s.approvals.Deny(ctx, c.by(), c.r.PathValue("id"), req.Reason)
	if err != nil {
		return api.Approval{}, err
	}
	return approval.View(it, s.keys.Now()), nil
}
