package server

import (
	"errors"
	"net/http"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
)

// selfOnly is the scope of the /v1/me routes: a person's personal access
// token of the built-in API must hold it; a session stands for it.
var selfOnly = []string{apikey.ScopeSelf}

// sessionCookies are the names of the browser session cookie (package
// web, session.go): __Host- prefixed over HTTPS, plain over HTTP.
var sessionCookies = []string{"__Host-tokend_session", "tokend_session"}

// me is a /v1/me route: behind the person middleware (person).
func (s *Server) me(pattern string, h callerHandler) route {
	return route{pattern, selfOnly, s.person(h)}
}

// person resolves the person calling a /v1/me route, once: by a bearer
// personal access token holding tokend:self, or else by the session
// cookie. A cookie caller's state-changing request must pass the
// cross-origin check, since a browser sends the cookie with another
// site's request too; a bearer caller's need not, since no browser adds
// the header by itself.
func (s *Server) person(next callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.resolvePerson(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next.serveCaller(w, r, p)
	})
}

func (s *Server) resolvePerson(r *http.Request) (principal, error) {
	if token, ok := bearer(r); ok {
		if token == "" {
			return principal{}, errEmptyBearer
		}
		return s.personalToken(r, token)
	}
	for _, name := range sessionCookies {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			if err := s.crossOrigin.Check(r); err != nil {
				return principal{}, &authError{http.StatusForbidden, api.ErrCrossOrigin,
					"a browser sent this request from another site; it was refused", ""}
			}
			return s.session(r, c.Value)
		}
	}
	return principal{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
		"sign in, or send a personal access token with the tokend:self scope as Authorization: Bearer <token>",
		bareChallenge}
}

// personalToken authenticates a personal access token of the built-in
// API through the verification engine, with the same codes, limits and
// bookkeeping as every other token.
func (s *Server) personalToken(r *http.Request, token string) (principal, error) {
	if s.oauth != nil && credential.LooksLikeJWT(token) {
		return s.cliSignIn(r, token)
	}
	var res verify.Result
	req := verify.Request{Token: token, Audience: apikey.SystemAudience, ClientIP: s.clientIP(r), Scopes: selfOnly, Cost: 1}
	if err := s.engine.Verify(r.Context(), &req, &res); err != nil {
		return principal{}, err
	}
	t := res.Token
	personal := t != nil && t.Kind == credential.KindPersonalToken
	switch {
	case res.Code == api.CodeValid && personal:
		return principal{id: t.Subject, kind: kindPersonalToken, scopes: t.Scopes, ip: req.ClientIP, via: t.ID}, nil
	case res.Code == api.CodeInsufficientScope && personal, res.Code == api.CodeValid && isAdminKey(t),
		res.Code == api.CodeInsufficientScope && isAdminKey(t):
		return principal{}, &authError{http.StatusForbidden, api.ErrInsufficientScope,
			"only a person may call /v1/me: sign in, or use a personal access token of theirs with the tokend:self scope",
			`Bearer realm="tokend", error="insufficient_scope", scope="` + apikey.ScopeSelf + `"`}
	}
	return principal{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
		"the bearer token is not a valid personal access token", `Bearer realm="tokend", error="invalid_token"`}
}

// session authenticates a browser session cookie: a live, complete
// session (no second factor owed).
func (s *Server) session(r *http.Request, token string) (principal, error) {
	ss, u, err := s.users.CheckSession(r.Context(), token)
	if errors.Is(err, user.ErrNoSession) || err == nil && ss.Pending != "" {
		return principal{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"the session has ended or still owes a sign-in step; sign in again", bareChallenge}
	}
	if err != nil {
		return principal{}, err
	}
	return principal{id: u.ID, kind: kindSession, scopes: selfOnly, ip: s.clientIP(r), via: ss.ID}, nil
}

// cliSignIn authenticates the access token "tokend login" got through
// the device flow for the built-in CLI client (oauth.CLIClientID): it
// stands for the person who approved it.
func (s *Server) cliSignIn(r *http.Request, token string) (principal, error) {
	id, ok, err := s.oauth.CLIPerson(r.Context(), token)
	if err != nil {
		return principal{}, err
	}
	if !ok {
		return principal{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"the bearer token is not a valid personal access token", `Bearer realm="tokend", error="invalid_token"`}
	}
	return principal{id: id, kind: kindCLISignIn, scopes: selfOnly, ip: s.clientIP(r)}, nil
}
