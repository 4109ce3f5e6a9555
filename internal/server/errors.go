package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/leak"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/valid"
)

// bareChallenge is the WWW-Authenticate of a request that lacks any
// credential (none, or one of a scheme tokend does not take): RFC 6750
// §3.1 says such an answer should carry no error code. A credential that
// does not authenticate gets error="invalid_token".
const bareChallenge = `Bearer realm="tokend"`

// authError is a failed authentication; challenge is the WWW-Authenticate
// value (RFC 6750 §3).
type authError struct {
	status    int
	code      string
	msg       string
	challenge string
}

func (e *authError) Error() string { return e.msg }

// problem is the one place where errors become HTTP answers. Only errors
// of known types produce client-visible text; anything else is a 500
// whose detail stays in the log.
func problem(err error) (p api.Problem, internal bool) {
	var (
		bad   *badRequest
		auth  *authError
		field *valid.Error
		limit *limitError
		flood *leak.ThrottledError
	)
	switch {
	case errors.As(err, &bad):
		return api.Problem{Status: bad.status, Type: bad.code, Detail: bad.msg, Field: bad.field}, false
	case errors.As(err, &auth):
		return api.Problem{Status: auth.status, Type: auth.code, Detail: auth.msg}, false
	case errors.As(err, &flood):
		return api.Problem{Status: http.StatusTooManyRequests, Type: api.ErrRateLimited, Detail: flood.Error()}, false
	case errors.As(err, &limit):
		return api.Problem{Status: http.StatusTooManyRequests, Type: api.ErrRateLimited, Detail: limit.msg}, false
	case errors.As(err, &field):
		return api.Problem{Status: 400, Type: api.ErrInvalidField, Detail: field.Error(), Field: field.Field}, false
	case errors.Is(err, store.ErrNotFound):
		return api.Problem{Status: 404, Type: api.ErrNotFound, Detail: "no such resource"}, false
	case errors.Is(err, store.ErrBadCursor):
		return api.Problem{Status: 400, Type: api.ErrInvalidField, Detail: "cursor: not one tokend made; start again from the first page",
			Field: "cursor"}, false
	case errors.Is(err, store.ErrConflict):
		return conflictProblem(store.ConflictColumn(err)), false
	case errors.Is(err, store.ErrInUse):
		return api.Problem{Status: 409, Type: api.ErrConflict, Detail: "the API still has live keys; revoke them or let them expire first"}, false
	case errors.Is(err, user.ErrInvalidLink):
		return api.Problem{Status: 400, Type: api.ErrInvalidField, Detail: err.Error(), Field: "token"}, false
	case errors.Is(err, apikey.ErrSystemAPI), errors.Is(err, apikey.ErrRevoked), errors.Is(err, user.ErrDirectoryUser),
		errors.Is(err, apikey.ErrOwnerDisabled), errors.Is(err, approval.ErrDecided):
		return api.Problem{Status: 409, Type: api.ErrConflict, Detail: err.Error()}, false
	case errors.Is(err, context.Canceled):
		return api.Problem{Status: 499, Type: api.ErrBadRequest, Detail: "the client went away"}, false
	case errors.Is(err, ratelimit.ErrUnavailable):
		// Not logged per request: the limiter logs the outage once.
		return api.Problem{Status: 503, Type: api.ErrInternal, Detail: "rate limits cannot be decided: the shared rate limiter is unreachable"}, false
	}
	return api.Problem{Status: 500, Type: api.ErrInternal, Detail: "internal error; the request id ties it to the server log"}, true
}

// conflictProblem says which unique value is taken.
func conflictProblem(column string) api.Problem {
	p := api.Problem{Status: 409, Type: api.ErrConflict, Field: column}
	switch column {
	case "audience":
		p.Detail = "another API has this audience; each API needs its own"
	case "key_prefix":
		p.Detail = "another API has this key prefix; each API needs its own"
	case "username":
		p.Detail = "another user has this username (usernames are unique in any case)"
	default:
		p.Detail = "a resource with this id exists"
	}
	return p
}

var titles = map[string]string{
	api.ErrBadRequest: "Bad request", api.ErrInvalidField: "Invalid field", api.ErrBodyTooLarge: "Body too large",
	api.ErrUnsupportedMedia: "Unsupported media type", api.ErrUnauthorized: "Unauthorized",
	api.ErrInsufficientScope: "Insufficient scope", api.ErrNotFound: "Not found", api.ErrConflict: "Conflict",
	api.ErrTokenInURL: "Token in URL", api.ErrRateLimited: "Too many requests", api.ErrInternal: "Internal error",
	api.ErrMethodNotAllowed: "Method not allowed", api.ErrNoRoute: "No route",
	api.ErrCrossOrigin: "Cross-origin request", api.ErrInvalidDPoPProof: "Invalid DPoP proof",
	api.ErrUseDPoPNonce: "DPoP nonce required",
}

// fail writes err as a problem document and logs internal errors once.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := problem(err)
	p.RequestID = w.Header().Get("X-Request-Id")
	if internal {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", p.RequestID, "route", r.Pattern, "err", err)
	}
	var auth *authError
	if errors.As(err, &auth) && auth.challenge != "" {
		w.Header().Set("WWW-Authenticate", auth.challenge)
	}
	if ch, ok := errors.AsType[*challenged](err); ok {
		w.Header()["Www-Authenticate"] = ch.challenges
		if ch.nonce != "" {
			w.Header().Set("DPoP-Nonce", ch.nonce)
		}
	}
	if flood, ok := errors.AsType[*leak.ThrottledError](err); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((flood.RetryAfter+time.Second-1)/time.Second), 10))
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p api.Problem) {
	p.Title = titles[p.Type]
	p.Type = api.ProblemTypeBase + p.Type
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	fmt.Fprintf(w, "%s\n", mustJSON(p))
}
