package web

import (
	"errors"
	"net/http"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/user"
)

// The account pages of a signed-in person: /account (profile and
// security overview), /account/password and /account/sessions.

// accountView is the account page.
type accountView struct {
	frame
	Sessions int
	Factors  []factorPage
}

// accountFrame is the frame of a page for the signed-in person v.
func (s *Site) accountFrame(r *http.Request, title, section string, v visitor) frame {
	f := s.frame(r, title)
	f.User, f.Section = &v.user, section
	return f
}

// account answers GET /account.
func (s *Site) account(w http.ResponseWriter, r *http.Request, v visitor) {
	ss, err := s.users.Sessions(r.Context(), v.user.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, pageAccount, accountView{frame: s.accountFrame(r, "Your account", "account", v),
		Sessions: len(ss), Factors: s.factorPages})
}

// passwordView is the change-password page.
type passwordView struct {
	frame
	Directory bool // the password belongs to the directory
	Error     string
	Done      bool
}

func (s *Site) renderPassword(w http.ResponseWriter, r *http.Request, status int, v visitor, pv passwordView) {
	pv.frame = s.accountFrame(r, "Change your password", "account", v)
	pv.Directory = v.user.Source != api.UserSourceLocal
	s.render(w, r, status, pagePassword, pv)
}

// passwordForm answers GET /account/password.
func (s *Site) passwordForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderPassword(w, r, http.StatusOK, v, passwordView{})
}

// changePassword answers POST /account/password: current, password,
// confirm. Every other session of the person ends; this one stays.
func (s *Site) changePassword(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next := f.Get("password")
	if next != f.Get("confirm") {
		s.renderPassword(w, r, http.StatusBadRequest, v, passwordView{Error: "The two new passwords differ; type the same password twice."})
		return
	}
	err = s.users.ChangePassword(r.Context(), v.user.ID, f.Get("current"), next, v.session.ID)
	if err != nil {
		status, msg, internal := passwordError(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		s.renderPassword(w, r, status, v, passwordView{Error: msg})
		return
	}
	s.renderPassword(w, r, http.StatusOK, v, passwordView{Done: true})
}

// passwordError is what the change-password page says of a refusal.
func passwordError(err error) (status int, msg string, internal bool) {
	if te, ok := errors.AsType[*user.ThrottledError](err); ok {
		return http.StatusTooManyRequests, "Too many wrong passwords. Wait " + waitText(te.RetryAfter) + " before trying again.", false
	}
	if errors.Is(err, user.ErrInvalidCredentials) {
		return http.StatusUnauthorized, "The current password is not right.", false
	}
	return classify(err)
}
