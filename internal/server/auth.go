package server

import (
	"net"
	"net/http"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/verify"
)

// authenticate checks the bearer credential of r against tokend's own API
// through the same verification engine as every other token, and requires
// one of scopes. It returns an *authError for the caller to answer 401 or
// 403 as RFC 6750 §3.1 describes.
func (s *Server) authenticate(r *http.Request, scopes []string) (audit.Actor, error) {
	token, ok := bearer(r)
	if !ok {
		return audit.Actor{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"send an admin key as Authorization: Bearer <key>", `Bearer realm="tokend", error="invalid_token"`}
	}
	var res verify.Result
	req := verify.Request{Token: token, Audience: apikey.SystemAudience, ClientIP: clientIP(r)}
	if err := s.engine.Verify(r.Context(), &req, &res); err != nil {
		return audit.Actor{}, err
	}
	// Only admin keys (API keys of the built-in API) authenticate to
	// tokend; no OAuth token does, whatever its audience.
	if res.Code != api.CodeValid || res.Token.Kind != credential.KindAPIKey || res.Token.APIID != apikey.SystemAPIID {
		return audit.Actor{}, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"the bearer token is not a valid tokend key", `Bearer realm="tokend", error="invalid_token"`}
	}
	for _, want := range scopes {
		for _, have := range res.Token.Scopes {
			if want == have {
				return audit.Actor{ID: res.Token.ID, IP: req.ClientIP}, nil
			}
		}
	}
	return audit.Actor{}, &authError{http.StatusForbidden, api.ErrInsufficientScope,
		"the key lacks the scope this endpoint needs: " + strings.Join(scopes, " or "),
		`Bearer realm="tokend", error="insufficient_scope", scope="` + strings.Join(scopes, " ") + `"`}
}

// bearer extracts the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 9110 §11.1).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// clientIP is the address of the peer. tokend does not trust forwarding
// headers: behind a proxy, pass the client's address in the request body
// (client_ip) where it matters.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
