package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The console page of approvals (/admin/approvals): the personal access
// tokens and dynamically registered clients an API's policy holds for
// an administrator's decision, oldest first, each with a reason field
// and Approve and Deny buttons. It calls package approval as
// POST /v1/approvals/{id}/approve and /deny do.

// approvalShows are the choices of the list's "Show" filter.
var approvalShows = []struct{ Value, Label string }{
	{api.ApprovalPending, "Waiting for a decision"},
	{api.ApprovalApproved, "Approved"},
	{api.ApprovalDenied, "Denied"},
}

// approvalsView is the approvals list.
type approvalsView struct {
	frame
	Show    string
	Shows   []struct{ Value, Label string }
	Rows    []approvalRow
	After   string
	Next    string
	Notice  string
	Problem formProblem
	// Failed is the id whose decision was refused, whose reason field
	// the problem then names.
	Failed string
}

// approvalRow is one credential as the list shows it.
type approvalRow struct {
	api.Approval
	Name    string
	Owner   string // the owner's username, for a token
	OwnerID string
	// Asks are what the credential asks for, "API: scope scope" each.
	Asks []string
}

// approvalNotices are the confirmations of the page (?notice=…).
var approvalNotices = map[string]string{
	"approved": "Approved: it works from now on, on every node.",
	"denied":   "Denied: it will never work, and its owner sees your reason.",
}

// listApprovals answers GET /admin/approvals?show=&after=.
func (s *Site) listApprovals(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	view := approvalsView{Show: q.Get("show"), After: q.Get("after"), Notice: approvalNotices[q.Get("notice")]}
	if view.Show == "" {
		view.Show = api.ApprovalPending
	}
	status := http.StatusOK
	if err := s.fillApprovals(r, &view); err != nil {
		p, st, ok := s.refusal(w, r, err)
		if !ok {
			return
		}
		view.Problem, view.Rows, view.Next, status = p, nil, "", st
	}
	s.renderApprovals(w, r, status, v, view)
}

func (s *Site) renderApprovals(w http.ResponseWriter, r *http.Request, status int, v visitor, view approvalsView) {
	view.Shows = approvalShows
	view.frame = s.adminFrame(r, "Approvals", tabApprovals, v)
	s.render(w, r, status, pageApprovals, view)
}

// fillApprovals fills one page of view's state.
func (s *Site) fillApprovals(r *http.Request, view *approvalsView) error {
	if !slices.ContainsFunc(approvalShows, func(c struct{ Value, Label string }) bool { return c.Value == view.Show }) {
		return valid.Errorf("state", "is not one of the choices")
	}
	items, err := s.approvals.List(r.Context(), view.Show, view.After, consolePageSize+1)
	if err != nil {
		return err
	}
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		return err
	}
	names := apiNames(as)
	now := s.keys.Now()
	items, view.Next = onePage(items, func(last store.ApprovalItem) string {
		return pageLink("/admin/approvals", url.Values{"show": {view.Show}, "after": {store.ApprovalCursor(last)}})
	})
	for _, it := range items {
		view.Rows = append(view.Rows, s.approvalRow(r, approval.View(it, now), names))
	}
	return nil
}

func (s *Site) approvalRow(r *http.Request, a api.Approval, names map[string]string) approvalRow {
	row := approvalRow{Approval: a}
	asks := func(apiID string, scopes []string) {
		name := names[apiID]
		if name == "" {
			name = apiID
		}
		row.Asks = append(row.Asks, name+": "+strings.Join(scopes, " "))
	}
	if t := a.Token; t != nil {
		row.Name, row.OwnerID, row.Owner = t.Name, t.UserID, s.username(r, t.UserID)
		asks(t.APIID, t.Scopes)
		return row
	}
	if c := a.Client; c != nil {
		row.Name = c.Name
		for _, id := range slices.Sorted(maps.Keys(c.APIScopes)) {
			asks(id, c.APIScopes[id])
		}
	}
	return row
}

// decideApproval answers POST /admin/approvals/{id}: the button pressed
// (decision approve or deny) with the reason typed beside it.
func (s *Site) decideApproval(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, reason := r.PathValue("id"), strings.TrimSpace(f.Get("reason"))
	var notice string
	switch f.Get("decision") {
	case "approve":
		_, err = s.approvals.Approve(r.Context(), s.actor(r, v), id, reason)
		notice = "approved"
	case "deny":
		_, err = s.approvals.Deny(r.Context(), s.actor(r, v), id, reason)
		notice = "denied"
	default:
		err = valid.Errorf("decision", "press Approve or Deny")
	}
	if err != nil {
		s.refuseApproval(w, r, v, id, err)
		return
	}
	http.Redirect(w, r, "/admin/approvals?notice="+notice, http.StatusSeeOther)
}

// refuseApproval shows the pending list again with the reason the
// decision on id was refused.
func (s *Site) refuseApproval(w http.ResponseWriter, r *http.Request, v visitor, id string, err error) {
	p, status, ok := s.refusal(w, r, err)
	if !ok {
		return
	}
	view := approvalsView{Show: api.ApprovalPending, Problem: p, Failed: id}
	if ferr := s.fillApprovals(r, &view); ferr != nil {
		s.fail(w, r, ferr)
		return
	}
	s.renderApprovals(w, r, status, v, view)
}
