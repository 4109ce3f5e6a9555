package web

import (
	"errors"
	"net/http"

	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/user"
)

// logoutView is the RP-initiated logout page (OIDC RP-Initiated Logout
// 1.0): tokend asks before it signs the person out, since a link from
// any site can lead here.
type logoutView struct {
	frame
	Query string
	Done  bool
}

// logoutForm answers GET /oauth2/logout: checks the request and asks.
func (s *Site) logoutForm(w http.ResponseWriter, r *http.Request) {
	f, err := oauth.ParseForm([]byte(r.URL.RawQuery))
	if err == nil {
		_, err = s.oauth.CheckLogout(r.Context(), f)
	}
	if err != nil {
		s.fail(w, r, oauthError(err))
		return
	}
	v := logoutView{Query: r.URL.RawQuery}
	v.frame = s.frame(r, "Sign out?")
	s.render(w, r, http.StatusOK, pageLogout, v)
}

// logout answers POST /oauth2/logout: ends the session and goes back to
// the client's registered post_logout_redirect_uri, if it named one.
func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	in, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := oauth.ParseForm([]byte(in.Get("query")))
	var lo oauth.Logout
	if err == nil {
		lo, err = s.oauth.CheckLogout(r.Context(), f)
	}
	if err != nil {
		s.fail(w, r, oauthError(err))
		return
	}
	if token := s.sessionToken(r); token != "" {
		if err := s.users.SignOut(r.Context(), token); err != nil && !errors.Is(err, user.ErrNoSession) {
			s.fail(w, r, err)
			return
		}
	}
	s.clearSession(w)
	if lo.RedirectURI != "" {
		s.toClient(w, r, lo.RedirectURI)
		return
	}
	v := logoutView{Done: true}
	v.frame = s.frame(r, "Signed out")
	s.render(w, r, http.StatusOK, pageLogout, v)
}
