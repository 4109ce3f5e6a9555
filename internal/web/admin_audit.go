package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The console page of the audit log (/admin/audit): newest first,
// filtered by actor, action, target and day, with cursor pages, as GET
// /v1/audit.

// auditView is the audit-log page.
type auditView struct {
	frame
	Actor, Action, TargetType, TargetID, Since, Until string
	Events                                            []store.Event
	Before                                            string
	Next                                              string
	Problem                                           formProblem
}

// dateLayout is how the day filters are typed (an <input type=date>).
const dateLayout = "2006-01-02"

// listAudit answers GET /admin/audit?actor=&action=&target_type=&target_id=&since=&until=&before=.
func (s *Site) listAudit(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	view := auditView{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		TargetType: strings.TrimSpace(q.Get("target_type")), TargetID: strings.TrimSpace(q.Get("target_id")),
		Since: q.Get("since"), Until: q.Get("until"), Before: q.Get("before")}
	status := http.StatusOK
	if err := s.fillAudit(r, &view); err != nil {
		p, st, ok := s.refusal(w, r, err)
		if !ok {
			return
		}
		view.Problem, status = p, st
	}
	view.frame = s.adminFrame(r, "Audit log", tabAudit, v)
	s.render(w, r, status, pageAudit, view)
}

func (s *Site) fillAudit(r *http.Request, view *auditView) error {
	f := store.EventFilter{Actor: view.Actor, Action: view.Action, TargetType: view.TargetType, TargetID: view.TargetID,
		Limit: consolePageSize + 1}
	var err error
	if f.Since, err = day("since", view.Since); err != nil {
		return err
	}
	if f.Until, err = day("until", view.Until); err != nil {
		return err
	}
	if !f.Until.IsZero() {
		f.Until = f.Until.Add(24 * time.Hour) // to the end of that day
	}
	if view.Before != "" {
		if f.Before, err = store.SeqCursor(view.Before); err != nil {
			return err
		}
	}
	evs, err := s.audit.Events(r.Context(), f)
	if err != nil {
		return err
	}
	view.Events, view.Next = onePage(evs, func(last store.Event) string {
		return pageLink("/admin/audit", url.Values{"actor": {view.Actor}, "action": {view.Action},
			"target_type": {view.TargetType}, "target_id": {view.TargetID}, "since": {view.Since}, "until": {view.Until},
			"before": {strconv.FormatInt(last.ID, 10)}})
	})
	return nil
}

// day reads a day filter, in UTC; empty is the zero time.
func day(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(dateLayout, v)
	if err != nil {
		return time.Time{}, valid.Errorf(field, "must be a day such as 2026-01-02")
	}
	return t, nil
}
