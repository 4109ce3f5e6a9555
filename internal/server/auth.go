package server

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
)

// The kinds of principal. An admin key holds tokend:admin; a verify key
// holds tokend:verify only. A person calls /v1/me with their browser
// session (kindSession), a personal access token of theirs holding
// tokend:self (kindPersonalToken), or the access token of a CLI sign-in
// (kindCLISignIn); see me_auth.go.
const (
	kindAdminKey      = "admin_key"
	kindVerifyKey     = "verify_key"
	kindSession       = "session"
	kindPersonalToken = "personal_access_token"
	// kindCLISignIn is the access token "tokend login" got through the
	// device flow, for the built-in CLI client.
	kindCLISignIn = "cli_sign_in"
)

// principal is who is calling: resolved once, by the middleware (caller),
// before the handler runs, and handed to it. A handler never
// authenticates by itself.
type principal struct {
	id     string   // the key id; for a person, their user id
	kind   string   // one of the kinds above
	scopes []string // what it may do; shared with the verification cache, read only
	ip     string   // the client address the request came from
	// via is the session or personal access token a person called with.
	via string
}

// actor is the principal as the audit log records it: for a person, the
// person.
func (p principal) actor() audit.Actor { return audit.Actor{ID: p.id, IP: p.ip} }

// The scopes a route may require: admin routes, and the routes a verify
// key may also call.
var (
	adminOnly = []string{apikey.ScopeAdmin}
	verifiers = []string{apikey.ScopeAdmin, apikey.ScopeVerify}
)

// callerHandler is an endpoint that needs a principal.
type callerHandler interface {
	serveCaller(w http.ResponseWriter, r *http.Request, p principal)
}

// caller is the principal middleware: it resolves the caller of each
// request once, answers 401 or 403 itself (RFC 6750 §3.1), and hands the
// principal to next. It passes the principal as an argument rather than
// in the request context, which would cost a copy of the request.
func (s *Server) caller(scopes []string, next callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.resolve(r, scopes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next.serveCaller(w, r, p)
	})
}

// resolve authenticates the bearer credential of r against tokend's own
// API, through the same verification engine as every other token, and
// requires one of scopes. Each authenticated request costs the key one
// credit if it has credits (review item M2): a key given credits for a
// one-off job is spent, not unlimited. It returns an *authError for a
// 401 (no credential, or one that does not authenticate) or a 403 (one
// that authenticates but may not call the route: a verify key on an
// admin route, or a person's session or token).
func (s *Server) resolve(r *http.Request, scopes []string) (principal, error) {
	token, ok := bearer(r)
	switch {
	case !ok:
		if signedIn, err := s.hasSession(r); err != nil || signedIn {
			return principal{}, cmp.Or(err, personScopeError(scopes))
		}
		return principal{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"send an admin key as Authorization: Bearer <key>", bareChallenge}
	case token == "":
		return principal{}, errEmptyBearer
	}
	return s.authenticate(r, token, scopes)
}

// authenticate is resolve for a key already taken from the request (the
// Authorization header, or Tokend-Verify-Key on /v1/authz).
func (s *Server) authenticate(r *http.Request, token string, scopes []string) (principal, error) {
	var res verify.Result
	req := verify.Request{Token: token, Audience: apikey.SystemAudience, ClientIP: s.clientIP(r), Cost: 1}
	if len(scopes) == 1 {
		// The engine refuses a missing scope before it spends a credit.
		req.Scopes = scopes
	}
	if !maybeAdminKey(token) {
		// Refused whatever it is (notAKey says how): it is looked up
		// without spending anything of its holder's, no unit of a
		// rate limit, no credit, no use, as introspection does.
		if err := s.engine.Inspect(r.Context(), &req, &res); err != nil {
			return principal{}, err
		}
		return principal{}, s.notAKey(r, token, res, scopes)
	}
	if err := s.engine.Verify(r.Context(), &req, &res); err != nil {
		return principal{}, err
	}
	// Only admin keys (API keys of the built-in API) authenticate to
	// tokend's management API; no OAuth token does, whatever its
	// audience.
	if !isAdminKey(res.Token) {
		return principal{}, s.notAKey(r, token, res, scopes)
	}
	if res.Code == api.CodeInsufficientScope {
		return principal{}, scopeError(scopes)
	}
	if res.Code != api.CodeValid {
		return principal{}, errInvalidKey
	}
	p := principal{id: res.Token.ID, kind: kindVerifyKey, scopes: res.Token.Scopes, ip: req.ClientIP}
	if slices.Contains(p.scopes, apikey.ScopeAdmin) {
		p.kind = kindAdminKey
	}
	for _, want := range scopes {
		if slices.Contains(p.scopes, want) {
			return p, nil
		}
	}
	return principal{}, scopeError(scopes)
}

var errInvalidKey = &authError{http.StatusUnauthorized, api.ErrUnauthorized,
	"the bearer token is not a valid tokend key", `Bearer realm="tokend", error="invalid_token"`}

// notAKey refuses token, which the engine answered res and which is not
// a key of the built-in API: a credential a person holds for tokend (a
// personal access token of the built-in API, the access token of a CLI
// sign-in) authenticates them but calls /v1/me only, so it is 403
// insufficient_scope (RFC 6750 §3.1), like a verify key on an admin
// route; anything else does not authenticate at all, 401 invalid_token.
// The CLI sign-in is looked up only here, on the way to a refusal.
func (s *Server) notAKey(r *http.Request, token string, res verify.Result, scopes []string) error {
	if t := res.Token; t != nil && t.Kind == credential.KindPersonalToken && t.APIID == apikey.SystemAPIID {
		if res.Code == api.CodeValid || res.Code == api.CodeInsufficientScope {
			return personScopeError(scopes)
		}
		return errInvalidKey
	}
	if res.Token == nil && s.oauth != nil && looksLikeAccessToken(token) {
		if _, ok, err := s.oauth.CLIPerson(r.Context(), token); err != nil || ok {
			return cmp.Or(err, personScopeError(scopes))
		}
	}
	return errInvalidKey
}

// looksLikeAccessToken reports a token of the shape of an OAuth access
// token: a JWT, or an opaque one of tokend's.
func looksLikeAccessToken(token string) bool {
	prefix, ok := credential.Parse(token)
	return credential.LooksLikeJWT(token) || ok && prefix == credential.AccessTokenPrefix
}

// hasSession reports whether r carries the cookie of a live, complete
// browser session: a person signed in, who may call /v1/me but not the
// management API.
func (s *Server) hasSession(r *http.Request) (bool, error) {
	for _, name := range sessionCookies {
		c, err := r.Cookie(name)
		if err != nil || c.Value == "" {
			continue
		}
		ss, _, err := s.users.CheckSession(r.Context(), c.Value)
		if errors.Is(err, user.ErrNoSession) {
			return false, nil
		}
		return err == nil && ss.Pending == "", err
	}
	return false, nil
}

// maybeAdminKey reports whether token has the prefix of admin and verify
// keys, which every key of the built-in API has (its prefix cannot be
// changed, and no other API may take it). Anything else cannot
// authenticate to the management API; on a route that takes verify keys
// too, whose scopes the engine does not check, a person's token (which
// the engine would find valid) must be refused before it spends.
func maybeAdminKey(token string) bool {
	return strings.HasPrefix(token, credential.AdminKeyPrefix+"_")
}

// isAdminKey reports a key of the built-in API, admin or verify key.
func isAdminKey(t *api.TokenInfo) bool {
	return t != nil && t.Kind == credential.KindAPIKey && t.APIID == apikey.SystemAPIID
}

func scopeError(scopes []string) error {
	return &authError{http.StatusForbidden, api.ErrInsufficientScope,
		"the key lacks the scope this endpoint needs: " + strings.Join(scopes, " or "),
		`Bearer realm="tokend", error="insufficient_scope", scope="` + strings.Join(scopes, " ") + `"`}
}

// personScopeError refuses a person (session, personal access token, CLI
// sign-in) on a route for keys.
func personScopeError(scopes []string) error {
	return &authError{http.StatusForbidden, api.ErrInsufficientScope,
		"a person's session or token calls /v1/me only; this endpoint needs an admin key with " + strings.Join(scopes, " or "),
		`Bearer realm="tokend", error="insufficient_scope", scope="` + strings.Join(scopes, " ") + `"`}
}

// bearer extracts the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 9110 §11.1). ok reports a header of
// that scheme. Its token is "" when the header has the scheme alone
// ("Bearer", "Bearer   ": the server drops the trailing spaces): that is
// a credential, malformed, not the absence of one, and every surface
// refuses it as tokenauth and the gateway do, 401 error="invalid_token"
// (errEmptyBearer), never with the bare challenge of a request without
// credentials.
func bearer(r *http.Request) (token string, ok bool) {
	return schemeToken(firstHeader(r.Header, keyAuthorization), "bearer")
}

// dpopToken is bearer for "Authorization: DPoP <token>" (RFC 9449 §7.1).
func dpopToken(r *http.Request) (token string, ok bool) {
	return schemeToken(firstHeader(r.Header, keyAuthorization), "dpop")
}

// schemeToken is the token of the Authorization header h when its scheme
// is scheme (lower case), and whether it is.
func schemeToken(h, scheme string) (string, bool) {
	n := len(scheme)
	if len(h) < n || !strings.EqualFold(h[:n], scheme) || len(h) > n && h[n] != ' ' {
		return "", false
	}
	return strings.TrimSpace(h[n:]), true
}

// errEmptyBearer refuses "Authorization: Bearer" without a token.
var errEmptyBearer = &authError{http.StatusUnauthorized, api.ErrUnauthorized,
	"the Authorization header names the Bearer scheme but holds no token", `Bearer realm="tokend", error="invalid_token"`}

// clientIP is the address of the client: the TCP peer, or the address a
// trusted proxy forwarded (Config.TrustedProxies). Everything that needs
// the client's address (IP allowlists, the access log, the auth
// throttles) takes it from here.
func (s *Server) clientIP(r *http.Request) string {
	return s.clientIPs.IP(r)
}
