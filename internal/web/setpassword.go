package web

import (
	"net/http"

	"github.com/tokend/tokend/internal/audit"
)

// The set-password page consumes a one-time set-password link, which an
// admin hands to a new person or to one who forgot their password. The
// link is /set-password#<token>: the token rides in the URL fragment,
// which browsers never send to a server, so it reaches no access log, no
// proxy and no Referer header. static/set-password.js moves it into the
// form's hidden field and out of the address bar; without JavaScript the
// person pastes it into the field the page then shows. Either way the
// token travels to tokend only in the POSTed form.

// setPasswordView is the set-password page.
type setPasswordView struct {
	frame
	// Token is the link's token, given back only after a refused POST
	// so that the person can try another password.
	Token string
	Error string
	Done  bool
}

func (s *Site) renderSetPassword(w http.ResponseWriter, r *http.Request, status int, v setPasswordView) {
	v.frame = s.frame(r, "Set your password")
	v.Scripts = []string{"set-password.js"}
	s.render(w, r, status, pageSetPassword, v)
}

// setPasswordForm answers GET /set-password.
func (s *Site) setPasswordForm(w http.ResponseWriter, r *http.Request) {
	s.renderSetPassword(w, r, http.StatusOK, setPasswordView{})
}

// setPassword answers POST /set-password: token, password, confirm.
func (s *Site) setPassword(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token, password := f.Get("token"), f.Get("password")
	if token == "" {
		s.renderSetPassword(w, r, http.StatusBadRequest, setPasswordView{Error: "Paste the code from your set-password link."})
		return
	}
	if password != f.Get("confirm") {
		s.renderSetPassword(w, r, http.StatusBadRequest, setPasswordView{Token: token, Error: "The two passwords differ; type the same password twice."})
		return
	}
	by := audit.Actor{ID: "set-password-link", IP: s.clientIP(r)}
	if _, err := s.users.SetPasswordWithLink(r.Context(), by, token, password); err != nil {
		status, msg, internal := classify(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		s.renderSetPassword(w, r, status, setPasswordView{Token: token, Error: msg})
		return
	}
	s.renderSetPassword(w, r, http.StatusOK, setPasswordView{Done: true})
}
