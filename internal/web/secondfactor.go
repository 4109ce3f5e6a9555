package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tokend/tokend/internal/user"
)

// The steps of a pending session: the second factor after a password
// (/signin/second-factor) and the enrolment that policy may demand
// (/signin/enrol). The second-factor pages of each method (TOTP,
// passkeys) add themselves to factorPages in routes.go. Both steps carry
// the page the person was going to (next, a local path) so that, for
// one, an OAuth authorization resumes after the second factor.

// factorPage is a page where a person sets up one kind of second factor.
type factorPage struct {
	Path, Name, Help string
}

// withNext is page with the local path next as its next parameter, page
// alone when next is "".
func withNext(page, next string) string {
	if next == "" {
		return page
	}
	return page + "?next=" + url.QueryEscape(next)
}

// secondFactorView is the second-factor step.
type secondFactorView struct {
	frame
	Error string
	// Passkeys: the person has a passkey to use instead of a code.
	Passkeys bool
	// Codes: the person has an authenticator app (and so recovery
	// codes), or nothing usable here, which the code form then says.
	Codes bool
	// Next is the local page to go to after the second factor.
	Next string
}

func (s *Site) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, v visitor, view secondFactorView) {
	view.frame = s.frame(r, "Second step")
	m, err := s.users.MFA(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.Passkeys = m.Passkeys > 0 && s.users.PasskeysAvailable() == nil
	view.Codes = m.TOTP || !view.Passkeys
	if view.Passkeys {
		view.Scripts = []string{"passkey.js"}
	}
	s.render(w, r, status, pageSecondFactor, view)
}

// secondFactorForm answers GET /signin/second-factor?next=.
func (s *Site) secondFactorForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderSecondFactor(w, r, http.StatusOK, v, secondFactorView{Next: localPath(r.URL.Query().Get("next"))})
}

// secondFactorCode answers POST /signin/second-factor: code (from the
// authenticator app, or a recovery code) and next. A right code, used
// once, turns the pending session into a full one under a new id and
// token, and the browser goes on to next.
func (s *Site) secondFactorCode(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := localPath(f.Get("next"))
	err = s.users.CheckCode(r.Context(), v.user.ID, f.Get("code"))
	var in user.SignedIn
	if err == nil {
		in, err = s.users.CompleteSecondFactor(r.Context(), v.token, "otp", s.meta(r))
	}
	if errors.Is(err, user.ErrNoSession) {
		s.toSignIn(w, r)
		return
	}
	if err != nil {
		status, msg, internal := codeError(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		retryAfter(w, err)
		s.renderSecondFactor(w, r, status, v, secondFactorView{Error: msg, Next: next})
		return
	}
	s.setSession(w, in)
	http.Redirect(w, r, orDefault(next, s.stepPage(in.Session)), http.StatusSeeOther)
}

// codeError is what a page says of a refused TOTP or recovery code. It
// does not say whether the code was wrong, expired or used already.
func codeError(err error) (status int, msg string, internal bool) {
	if te, ok := errors.AsType[*user.CodeThrottledError](err); ok {
		return http.StatusTooManyRequests, "Too many wrong codes. For your safety, wait " + waitText(te.RetryAfter) +
			" before trying again.", false
	}
	if errors.Is(err, user.ErrInvalidCode) {
		return http.StatusUnauthorized, "That code is not right, or was used already. Type the code your app shows now " +
			"(each works once), or an unused recovery code.", false
	}
	return classify(err)
}

// retryAfter sets Retry-After for a refusal that says how long to wait.
func retryAfter(w http.ResponseWriter, err error) {
	var d time.Duration
	if te, ok := errors.AsType[*user.CodeThrottledError](err); ok {
		d = te.RetryAfter
	} else if te, ok := errors.AsType[*user.ThrottledError](err); ok {
		d = te.RetryAfter
	} else {
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}

// enrolView is the page a person sees when policy demands a second
// factor they have not set up.
type enrolView struct {
	frame
	Factors []factorPage
	// Next is the local page to go to once a second factor is set up.
	Next string
}

// enrolPage answers GET /signin/enrol?next=.
func (s *Site) enrolPage(w http.ResponseWriter, r *http.Request, v visitor) {
	if v.session.Pending == "" {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	view := enrolView{frame: s.frame(r, "Set up a second factor"), Factors: s.factorPages, Next: localPath(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, pageEnrol, view)
}
