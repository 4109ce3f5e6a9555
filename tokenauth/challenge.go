package tokenauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// The RFC 6750 §3.1 error codes, and the two this package adds for the
// answers that are not about the token.
const (
	// ErrInvalidRequest (400): the request carries a token the wrong way
	// (in the query string, in two Authorization headers).
	ErrInvalidRequest = "invalid_request"
	// ErrInvalidToken (401): the token is missing, malformed, unknown,
	// expired, revoked, disabled, for another audience, or not allowed
	// from the client's address.
	ErrInvalidToken = "invalid_token"
	// ErrInsufficientScope (403): the token lacks a required scope.
	ErrInsufficientScope = "insufficient_scope"
	// ErrRateLimited (429): a rate limit of the key is exhausted, or its
	// credits are.
	ErrRateLimited = "rate_limited"
	// ErrUnavailable (503): tokend could not be asked; fail closed.
	ErrUnavailable = "temporarily_unavailable"
	// ErrInvalidSignature (401): the request's RFC 9421 signature does
	// not hold (the body, the method or the URI changed, it is stale or
	// a replay), or the key's API requires signed requests and this one
	// is not signed. The description says what did not match.
	ErrInvalidSignature = "invalid_signature"
)

// Error is why a request was refused. Check returns it, and WriteError
// turns it into the answer. Every field but Err is safe to show the
// client; Err holds the cause of a 503 for the server's log.
type Error struct {
	// Status is the HTTP status: 400, 401, 403, 429 or 503.
	Status int
	// Code is one of the Err constants; empty for a request without any
	// token, which RFC 6750 §3.1 answers with a bare challenge.
	Code string
	// Description is a sentence for the client's developer.
	Description string
	// Scopes are the scopes the route requires, named in the challenge.
	Scopes []string
	// RateLimits and Credits are the key's state with a 429.
	RateLimits []api.RateLimitState
	Credits    *api.CreditState
	// Err is the cause of a 503; never shown to the client.
	Err error
	// DPoP says the refusal concerns the DPoP scheme (RFC 9449 §7.1):
	// the request used Authorization: DPoP, or Code is one of the
	// ErrInvalidDPoPProof and ErrUseDPoPNonce. The error is then named in
	// the DPoP challenge rather than the Bearer one.
	DPoP bool
	// DPoPNonce, when set, is sent in a DPoP-Nonce header: the nonce the
	// client must put in its next proof (with ErrUseDPoPNonce).
	DPoPNonce string
}

func (e *Error) Error() string {
	msg := "tokenauth: " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Description
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func invalidRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: ErrInvalidRequest, Description: desc}
}

func invalidToken(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: ErrInvalidToken, Description: desc}
}

func unavailable(err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: ErrUnavailable,
		Description: "the token cannot be verified now; try again later", Err: err}
}

// WriteError answers a refused request: err's status, a JSON body
// {"error":…,"error_description":…}, Cache-Control: no-store, and the
// headers that go with the status. 400, 401 and 403 carry two
// WWW-Authenticate challenges, Bearer (RFC 6750) and DPoP (RFC 9449 §7.1,
// with the accepted algs), the one of the scheme the request used first
// and naming the error, with the required scope and RFC 9728
// resource_metadata; a 401 carries DPoP-Nonce when a nonce is due. 429
// carries the rate-limit headers (see WriteRateLimitHeaders) and
// Retry-After; 503 carries Retry-After: 5. An err that is not an *Error
// is answered as a 503.
func (a *Auth) WriteError(w http.ResponseWriter, err error) {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		e = unavailable(err)
	}
	h := w.Header()
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		bearer, dpop := a.challenge("Bearer", e, !e.DPoP), a.challenge("DPoP", e, e.DPoP)
		if e.DPoP {
			bearer, dpop = dpop, bearer
		}
		h["Www-Authenticate"] = []string{bearer, dpop}
		nonce := e.DPoPNonce
		if nonce == "" && e.Status == http.StatusUnauthorized {
			nonce = a.dpop.Nonce() // "" when this server requires none
		}
		if nonce != "" {
			h.Set("DPoP-Nonce", nonce)
		}
	case http.StatusTooManyRequests:
		now := a.now()
		WriteRateLimitHeaders(h, e.RateLimits, now)
		if s, ok := RetryAfter(e.RateLimits, now); ok {
			h.Set("Retry-After", strconv.FormatInt(s, 10))
		}
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	code := e.Code
	if code == "" {
		code = ErrInvalidToken
	}
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, e.Description})
}

// challenge is the WWW-Authenticate challenge of scheme for e (RFC 6750
// §3, RFC 9449 §7.1, RFC 9728 §5.1). Only the challenge of the scheme
// the request used (named) carries the error; a request without a token
// gets no error code (RFC 6750 §3.1). The DPoP challenge names the
// accepted algs.
func (a *Auth) challenge(scheme string, e *Error, named bool) string {
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quoteSafe(value))
		b.WriteString(`"`)
		sep = ", "
	}
	if named && e.Code != "" {
		param("error", e.Code)
		if e.Description != "" {
			param("error_description", e.Description)
		}
	}
	if len(e.Scopes) > 0 {
		param("scope", strings.Join(e.Scopes, " "))
	}
	if a.metadataURL != "" {
		param("resource_metadata", a.metadataURL)
	}
	if scheme == "DPoP" {
		param("algs", a.algs)
	}
	return b.String()
}

// quoteSafe drops the characters RFC 6750 §3 forbids in a quoted
// attribute value (only %x20-21 / %x23-5B / %x5D-7E are allowed), so
// that no value can break out of its quotes.
func quoteSafe(s string) string {
	ok := func(c byte) bool { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' }
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			var b strings.Builder
			for j := 0; j < len(s); j++ {
				if ok(s[j]) {
					b.WriteByte(s[j])
				}
			}
			return b.String()
		}
	}
	return s
}

// RetryAfter returns the Retry-After of a 429 answer for limits, in whole
// seconds (at least 1), and whether a limit refused the request (ok is
// false for a key out of credits, whose limits all admit).
//
// tokend says how long each limit that refused needs before it admits a
// request again (retry_after); the request passes once every limit
// admits it, so Retry-After is the longest of those, rounded up, and a
// client that waits that long is not refused by a limit. An answer
// without retry_after (a tokend older than the field) reports every
// limit of a refused request as exhausted, without saying which refused
// it: then the earliest reset among them is the one time at which a
// retry may succeed.
func RetryAfter(limits []api.RateLimitState, now time.Time) (seconds int64, ok bool) {
	var longest time.Duration
	for _, l := range limits {
		longest = max(longest, time.Duration(l.RetryAfter))
	}
	if longest > 0 {
		return max(1, ceilSeconds(longest)), true
	}
	var first time.Time
	for _, l := range limits {
		if l.Remaining <= 0 && (!ok || l.Reset.Before(first)) {
			first, ok = l.Reset, true
		}
	}
	if !ok {
		return 0, false
	}
	return max(1, ceilSeconds(first.Sub(now))), true
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
