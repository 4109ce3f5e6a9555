package oauth

import (
	"fmt"
	"time"
)

// The RFC 6749 §5.2, RFC 7009, RFC 7591 and RFC 8707 error codes tokend
// answers with.
const (
	ErrInvalidRequest         = "invalid_request"
	ErrInvalidClient          = "invalid_client"
	ErrInvalidGrant           = "invalid_grant"
	ErrUnauthorizedClient     = "unauthorized_client"
	ErrUnsupportedGrantType   = "unsupported_grant_type"
	ErrInvalidScope           = "invalid_scope"
	ErrInvalidTarget          = "invalid_target"          // RFC 8707 §2
	ErrUnsupportedTokenType   = "unsupported_token_type"  // RFC 7009 §2.2.1
	ErrInvalidClientMetadata  = "invalid_client_metadata" // RFC 7591 §3.2.2
	ErrInvalidToken           = "invalid_token"           // RFC 6750 §3.1, RFC 7592
	ErrTemporarilyUnavailable = "temporarily_unavailable" // with 429, after too many failures
	ErrServerError            = "server_error"
)

// Error is an OAuth error answer: Code and Description go to the client
// as the JSON body of RFC 6749 §5.2, with HTTP status Status. Description
// is public text and never holds a secret. RetryAfter, when set, becomes a
// Retry-After header.
type Error struct {
	Code        string
	Description string
	Status      int
	RetryAfter  time.Duration
	// Basic is set on invalid_client when the client tried HTTP Basic
	// authentication, which RFC 6749 §5.2 answers with a
	// WWW-Authenticate: Basic challenge.
	Basic bool
	// DPoPNonce, when set, is sent in a DPoP-Nonce header: the nonce a
	// use_dpop_nonce error asks the client to use (RFC 9449 §8).
	DPoPNonce string
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth: " + e.Code
	}
	return "oauth: " + e.Code + ": " + e.Description
}

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

func invalidRequest(format string, args ...any) *Error {
	return newError(400, ErrInvalidRequest, format, args...)
}

func invalidGrant(format string, args ...any) *Error {
	return newError(400, ErrInvalidGrant, format, args...)
}

func invalidScope(format string, args ...any) *Error {
	return newError(400, ErrInvalidScope, format, args...)
}

func invalidTarget(format string, args ...any) *Error {
	return newError(400, ErrInvalidTarget, format, args...)
}

func invalidMetadata(format string, args ...any) *Error {
	return newError(400, ErrInvalidClientMetadata, format, args...)
}
