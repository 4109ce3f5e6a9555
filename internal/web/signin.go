package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/tokend/tokend/internal/user"
)

// The sign-in pages: /, /signin, /signout and the steps a session may
// still owe (/signin/second-factor, /signin/enrol).

// signInView is the sign-in page.
type signInView struct {
	frame
	Username string
	// Next is the local page to go to after signing in.
	Next   string
	Error  string
	Notice string
}

func (s *Site) renderSignIn(w http.ResponseWriter, r *http.Request, status int, v signInView) {
	v.frame = s.frame(r, "Sign in")
	if s.users.PasskeysAvailable() == nil {
		v.Scripts = []string{"passkey.js"}
	}
	s.render(w, r, status, pageSignIn, v)
}

// home answers GET /: the account page for a signed-in person, the step
// a pending session owes, or the sign-in page.
func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	v, err := s.visit(r)
	switch {
	case errors.Is(err, user.ErrNoSession):
		s.toSignIn(w, r)
	case err != nil:
		s.fail(w, r, err)
	default:
		http.Redirect(w, r, s.stepPage(v.session), http.StatusSeeOther)
	}
}

// signInForm answers GET /signin. Someone already signed in goes on.
func (s *Site) signInForm(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if v, err := s.visit(r); err == nil {
		to := orDefault(next, s.stepPage(v.session))
		if v.session.Pending != "" {
			to = withNext(s.stepPage(v.session), next)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	view := signInView{Next: next}
	if r.URL.Query().Has("signed-out") {
		view.Notice = "You are signed out."
	}
	s.renderSignIn(w, r, http.StatusOK, view)
}

// signIn answers POST /signin: username, password, next.
func (s *Site) signIn(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	username, next := f.Get("username"), localPath(f.Get("next"))
	in, err := s.users.SignIn(r.Context(), username, f.Get("password"), s.meta(r))
	if err != nil {
		status, msg, internal := signInError(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		retryAfter(w, err)
		s.renderSignIn(w, r, status, signInView{Username: username, Next: next, Error: msg})
		return
	}
	s.setSession(w, in)
	if in.Session.Pending != "" {
		next = withNext(s.stepPage(in.Session), next)
	}
	http.Redirect(w, r, orDefault(next, "/account"), http.StatusSeeOther)
}

// signInError is what the sign-in page says of a failed sign-in. It
// never tells whether the username exists: a wrong password and an
// unknown user read the same.
func signInError(err error) (status int, msg string, internal bool) {
	if te, ok := errors.AsType[*user.ThrottledError](err); ok {
		return http.StatusTooManyRequests, "Too many failed sign-ins. For your safety, wait " + waitText(te.RetryAfter) +
			" before trying again.", false
	}
	switch {
	case errors.Is(err, user.ErrInvalidCredentials):
		return http.StatusUnauthorized, "The username or password is not right. Check them and try again.", false
	case errors.Is(err, user.ErrDisabled):
		return http.StatusForbidden, "This account is disabled. Ask an administrator to enable it.", false
	}
	return classify(err)
}

// waitText says a wait in words: "20 seconds", "4 minutes".
func waitText(d time.Duration) string {
	if d <= time.Minute {
		n := max(1, int(math.Ceil(d.Seconds())))
		return plural(n, "second")
	}
	return plural(int(math.Ceil(d.Minutes())), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// signOut answers POST /signout: the session ends on the server, the
// cookie goes, and the browser lands on the sign-in page.
func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	if token := s.sessionToken(r); token != "" {
		if err := s.users.SignOut(r.Context(), token); err != nil && !errors.Is(err, user.ErrNoSession) {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/signin?signed-out", http.StatusSeeOther)
}
