package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// The sessions page: a person sees where they are signed in and ends any
// session, or all but this one.

// sessionsView is the sessions page.
type sessionsView struct {
	frame
	Sessions []sessionRow
	Notice   string
}

// sessionRow is one session as the page shows it.
type sessionRow struct {
	api.Session
	Browser string
	Current bool
}

// sessions answers GET /account/sessions.
func (s *Site) sessions(w http.ResponseWriter, r *http.Request, v visitor) {
	ss, err := s.users.Sessions(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := sessionsView{frame: s.accountFrame(r, "Your sessions", "sessions", v)}
	for _, x := range ss {
		view.Sessions = append(view.Sessions, sessionRow{Session: x, Browser: browserName(x.UserAgent), Current: x.ID == v.session.ID})
	}
	switch {
	case r.URL.Query().Has("ended"):
		view.Notice = "The session was ended: that browser is signed out."
	case r.URL.Query().Has("ended-others"):
		view.Notice = "Every other session was ended: only this browser is signed in."
	}
	s.render(w, r, http.StatusOK, pageSessions, view)
}

// endSession answers POST /account/sessions/{id}/end. Ending the current
// session signs this browser out.
func (s *Site) endSession(w http.ResponseWriter, r *http.Request, v visitor) {
	id := r.PathValue("id")
	err := s.users.EndSession(r.Context(), v.user.ID, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	// An unknown id (another person's, or one already ended) ends
	// nothing, and the page says it is gone either way.
	if id == v.session.ID {
		s.clearSession(w)
		http.Redirect(w, r, "/signin?signed-out", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/sessions?ended", http.StatusSeeOther)
}

// endOtherSessions answers POST /account/sessions/end-others.
func (s *Site) endOtherSessions(w http.ResponseWriter, r *http.Request, v visitor) {
	if err := s.users.EndSessions(r.Context(), v.user.ID, v.session.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/sessions?ended-others", http.StatusSeeOther)
}

// browserName makes a User-Agent readable: "Firefox on Linux". It is a
// hint for a person recognising their own devices, never a decision.
func browserName(ua string) string {
	if ua == "" {
		return "Unknown browser"
	}
	name := "A browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Chrome (headless)"},
		{"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			name = b.name
			break
		}
	}
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			return name + " on " + o.name
		}
	}
	return name
}
