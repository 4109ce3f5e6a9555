package web

import (
	"net/http"
)

// The steps of a pending session: the second factor after a password
// (/signin/second-factor) and the enrolment that policy may demand
// (/signin/enrol). The second-factor pages of each method (TOTP,
// passkeys) add themselves to factorPages in routes.go.

// factorPage is a page where a person sets up one kind of second factor.
type factorPage struct {
	Path, Name, Help string
}

// secondFactorView is the second-factor step.
type secondFactorView struct {
	frame
	Error string
	// Passkeys: the person has a passkey to use instead of a code.
	Passkeys bool
}

func (s *Site) renderSecondFactor(w http.ResponseWriter, r *http.Request, status int, v secondFactorView) {
	v.frame = s.frame(r, "Second step")
	if v.Passkeys {
		v.Scripts = []string{"passkey.js"}
	}
	s.render(w, r, status, pageSecondFactor, v)
}

// secondFactorForm answers GET /signin/second-factor.
func (s *Site) secondFactorForm(w http.ResponseWriter, r *http.Request, v visitor) {
	view := secondFactorView{}
	if s.users.PasskeysAvailable() == nil {
		ps, err := s.users.Passkeys(r.Context(), v.user.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		view.Passkeys = len(ps) > 0
	}
	s.renderSecondFactor(w, r, http.StatusOK, view)
}

// enrolView is the page a person sees when policy demands a second
// factor they have not set up.
type enrolView struct {
	frame
	Factors []factorPage
}

// enrolPage answers GET /signin/enrol.
func (s *Site) enrolPage(w http.ResponseWriter, r *http.Request, v visitor) {
	if v.session.Pending == "" {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	view := enrolView{frame: s.frame(r, "Set up a second factor"), Factors: s.factorPages}
	s.render(w, r, http.StatusOK, pageEnrol, view)
}
