package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/tokend/tokend/internal/user"
)

// The authenticator-app pages (/account/totp…): set one up (a QR code
// and the secret as text, then a first code), see the recovery codes
// once, get new ones, turn it off. Setting up is open to a session that
// policy holds on the enrolment step; the rest needs a full session,
// and the changes that weaken the account ask for the password or a
// code again.

// totpView is the authenticator-app page.
type totpView struct {
	frame
	// On: TOTP is confirmed; CodesLeft recovery codes are unused.
	On        bool
	CodesLeft int
	// Pending is the enrolment waiting for its first code, nil if none.
	Pending *enrolmentView
	// Next is the local page to go to once set up (from the enrolment
	// step).
	Next   string
	Error  string
	Notice string
}

// enrolmentView is a pending enrolment as the page shows it: the QR code
// as a data: URI (the CSP allows img-src data:; the PNG is tokend's own)
// and the secret for manual entry.
type enrolmentView struct {
	QR     template.URL
	Secret string
}

// totpNotices are the confirmations ?done= asks the page to show.
var totpNotices = map[string]string{
	"off":       "The authenticator app is turned off, and its recovery codes no longer work.",
	"cancelled": "The set-up was cancelled.",
}

func (s *Site) renderTOTP(w http.ResponseWriter, r *http.Request, status int, v visitor, tv totpView) {
	m, err := s.users.MFA(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tv.On, tv.CodesLeft = m.TOTP, m.RecoveryCodesLeft
	if !m.TOTP {
		en, err := s.users.PendingTOTP(r.Context(), v.user.ID)
		switch {
		case err == nil:
			tv.Pending = &enrolmentView{QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)),
				Secret: en.Secret}
		case !errors.Is(err, user.ErrNoTOTP):
			s.fail(w, r, err)
			return
		}
	}
	tv.frame = s.accountFrame(r, "Authenticator app", "account", v)
	if v.session.Pending != "" {
		tv.User = nil // the enrolment step shows no navigation
	}
	s.render(w, r, status, pageTOTP, tv)
}

// totpPage answers GET /account/totp?next=&done=.
func (s *Site) totpPage(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	s.renderTOTP(w, r, http.StatusOK, v, totpView{Next: localPath(q.Get("next")), Notice: totpNotices[q.Get("done")]})
}

// beginTOTP answers POST /account/totp/begin: next. It starts an
// enrolment (a new secret, replacing a pending one) and shows it.
func (s *Site) beginTOTP(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.users.BeginTOTP(r.Context(), v.user.ID); err != nil {
		s.refuseTOTP(w, r, v, totpView{Next: localPath(f.Get("next"))}, err)
		return
	}
	http.Redirect(w, r, withNext("/account/totp", localPath(f.Get("next"))), http.StatusSeeOther)
}

// confirmTOTP answers POST /account/totp/confirm: code, next. A right
// first code turns TOTP on and shows the ten recovery codes, once (in
// the answer, never in a URL). A session held on the enrolment step
// becomes a full one.
func (s *Site) confirmTOTP(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := localPath(f.Get("next"))
	codes, err := s.users.ConfirmTOTP(r.Context(), v.user.ID, f.Get("code"))
	if err != nil {
		s.refuseTOTP(w, r, v, totpView{Next: next}, err)
		return
	}
	if v.session.Pending == user.PendingEnrol {
		in, err := s.users.CompleteSecondFactor(r.Context(), v.token, "otp", s.meta(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.setSession(w, in)
		v.session = in.Session
	}
	s.renderCodes(w, r, v, codesView{Codes: codes, Next: orDefault(next, "/account"), First: true})
}

// newRecoveryCodes answers POST /account/totp/recovery-codes: proof (the
// password or a code). The old codes stop working; the new ones are
// shown once.
func (s *Site) newRecoveryCodes(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.users.Reauthenticate(r.Context(), v.user.ID, f.Get("proof"))
	var codes []string
	if err == nil {
		codes, err = s.users.NewRecoveryCodes(r.Context(), v.user.ID)
	}
	if err != nil {
		s.refuseTOTP(w, r, v, totpView{}, err)
		return
	}
	s.renderCodes(w, r, v, codesView{Codes: codes, Next: "/account/totp"})
}

// disableTOTP answers POST /account/totp/disable: proof. Turning a
// confirmed TOTP off needs the password or a code; cancelling a pending
// set-up needs nothing.
func (s *Site) disableTOTP(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.users.MFA(r.Context(), v.user.ID)
	if err == nil && m.TOTP {
		err = s.users.Reauthenticate(r.Context(), v.user.ID, f.Get("proof"))
	}
	if err == nil {
		err = s.users.DisableTOTP(r.Context(), v.user.ID)
	}
	if errors.Is(err, user.ErrNoTOTP) {
		err = nil // already off: the page says so
	}
	if err != nil {
		s.refuseTOTP(w, r, v, totpView{}, err)
		return
	}
	q := url.Values{"done": {"cancelled"}}
	if m.TOTP {
		q.Set("done", "off")
	}
	if next := localPath(f.Get("next")); next != "" {
		q.Set("next", next)
	}
	http.Redirect(w, r, "/account/totp?"+q.Encode(), http.StatusSeeOther)
}

// refuseTOTP shows the page again with why a change was refused, or the
// error page when the reason is not for people.
func (s *Site) refuseTOTP(w http.ResponseWriter, r *http.Request, v visitor, tv totpView, err error) {
	status, msg, internal := totpError(err)
	if internal {
		s.fail(w, r, err)
		return
	}
	retryAfter(w, err)
	tv.Error = msg
	s.renderTOTP(w, r, status, v, tv)
}

// totpError is what the authenticator-app page says of a refusal.
func totpError(err error) (status int, msg string, internal bool) {
	if te, ok := errors.AsType[*user.ThrottledError](err); ok {
		return http.StatusTooManyRequests, "Too many wrong passwords. Wait " + waitText(te.RetryAfter) + " before trying again.", false
	}
	switch {
	case errors.Is(err, user.ErrInvalidCredentials):
		return http.StatusUnauthorized, "That password or code is not right. Nothing was changed.", false
	case errors.Is(err, user.ErrTOTPEnabled):
		return http.StatusConflict, "An authenticator app is already set up. Turn it off first to set up another.", false
	case errors.Is(err, user.ErrNoTOTP):
		return http.StatusConflict, "There is no set-up waiting for a code: start again.", false
	case errors.Is(err, user.ErrNoKEK):
		return http.StatusServiceUnavailable, "Authenticator apps cannot be set up on this tokend: it has no key to protect " +
			"their secrets. Ask your administrator.", false
	case errors.Is(err, user.ErrInvalidCode):
		return http.StatusBadRequest, "That code is not right. Check that your phone's clock is right, and type the code " +
			"the app shows now; each code works once.", false
	}
	return codeError(err)
}

// codesView shows recovery codes, once.
type codesView struct {
	frame
	Codes []string
	// First: TOTP was just turned on (else the codes were renewed).
	First bool
	// Next is where "Continue" goes.
	Next string
}

func (s *Site) renderCodes(w http.ResponseWriter, r *http.Request, v visitor, cv codesView) {
	cv.frame = s.accountFrame(r, "Your recovery codes", "account", v)
	s.render(w, r, http.StatusOK, pageRecoveryCodes, cv)
}
