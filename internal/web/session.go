package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/user"
)

// The session cookie (PEOPLE.md): HttpOnly so no script reads it,
// SameSite=Lax so no other site's form or frame sends it, Path=/. Over
// HTTPS it is Secure and carries the __Host- prefix, which makes the
// browser refuse it unless it is Secure, host-only and Path=/; browsers
// refuse that prefix on plain http, where the name has none.
const (
	secureCookie = "__Host-tokend_session"
	plainCookie  = "tokend_session"
)

func (s *Site) cookieName() string {
	if s.secure {
		return secureCookie
	}
	return plainCookie
}

// setSession gives the browser the session of in. The cookie lasts as
// long as the session may, as a Max-Age, so that a browser whose clock
// is off keeps it as long; the idle timeout is the server's to enforce.
func (s *Site) setSession(w http.ResponseWriter, in user.SignedIn) {
	age := max(1, int(in.Session.ExpiresAt.Sub(s.now()).Seconds()))
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: in.Token, Path: "/", MaxAge: age,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// clearSession removes the session cookie.
func (s *Site) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// sessionToken is the session cookie's value, "" without one.
func (s *Site) sessionToken(r *http.Request) string {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

// meta is what the pages know of the browser behind r.
func (s *Site) meta(r *http.Request) user.ClientMeta {
	return user.ClientMeta{IP: s.clientIP(r), UserAgent: r.UserAgent()}
}

// visitor is the person behind a page request with a live session.
type visitor struct {
	token   string
	session user.Session
	user    api.User
}

// visit resolves r's session. A missing, unknown, expired or ended one is
// user.ErrNoSession.
func (s *Site) visit(r *http.Request) (visitor, error) {
	token := s.sessionToken(r)
	if token == "" {
		return visitor{}, user.ErrNoSession
	}
	ss, u, err := s.users.CheckSession(r.Context(), token)
	if err != nil {
		return visitor{}, err
	}
	return visitor{token: token, session: ss, user: u}, nil
}

// visitorHandler is a page for a person with a session.
type visitorHandler func(w http.ResponseWriter, r *http.Request, v visitor)

// signedIn runs h for a fully signed-in person. Without a session the
// browser goes to the sign-in page (back here after it, for a GET); a
// session that still owes a step goes to that step's page.
func (s *Site) signedIn(h visitorHandler) http.HandlerFunc {
	return s.withSession(h, "")
}

// enrolling runs h for a fully signed-in person or for one whose session
// may only set up a second factor (user.PendingEnrol): the pages that
// add a second factor use it.
func (s *Site) enrolling(h visitorHandler) http.HandlerFunc {
	return s.withSession(h, user.PendingEnrol)
}

// secondFactor runs h for a session that waits for a second factor
// (user.PendingSecondFactor): the second-factor step's pages use it.
func (s *Site) secondFactor(h visitorHandler) http.HandlerFunc {
	return s.withSession(h, user.PendingSecondFactor)
}

// withSession runs h for a session that is full or pending with allowed
// ("" admits full sessions only; a full session is admitted to the
// enrolment pages too, but not to the second-factor step).
func (s *Site) withSession(h visitorHandler, allowed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.visit(r)
		if errors.Is(err, user.ErrNoSession) {
			s.toSignIn(w, r)
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		full := v.session.Pending == ""
		switch {
		case v.session.Pending == allowed && (allowed != "" || full):
		case full && allowed == user.PendingEnrol:
		default:
			http.Redirect(w, r, s.stepPage(v.session), http.StatusSeeOther)
			return
		}
		h(w, r, v)
	}
}

// stepPage is where a session goes next: the step it owes, or the
// account page.
func (s *Site) stepPage(ss user.Session) string {
	switch ss.Pending {
	case user.PendingSecondFactor:
		return "/signin/second-factor"
	case user.PendingEnrol:
		return "/signin/enrol"
	}
	return "/account"
}

// toSignIn sends a browser without a session to the sign-in page, which
// brings it back to the page it asked for (GETs only: a POST without a
// session is not replayed). A stale cookie is removed.
func (s *Site) toSignIn(w http.ResponseWriter, r *http.Request) {
	if s.sessionToken(r) != "" {
		s.clearSession(w)
	}
	to := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath returns next if it is a path on this site, else "". Only
// "/x…" is accepted: "//host" and "/\host" are other sites to a
// browser, and anything with a scheme is refused.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	return next
}
