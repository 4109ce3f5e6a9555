package api

import "fmt"

// ProblemTypeBase prefixes every problem type URI; the fragment after it is
// the stable error code, documented in docs/api.md.
const ProblemTypeBase = "https://tokend.dev/problems/"

// The stable error codes of the management API. Each is the last segment
// of a problem document's type.
const (
	ErrBadRequest        = "bad-request"        // malformed JSON, unknown field, wrong type
	ErrInvalidField      = "invalid-field"      // a field's value is not acceptable
	ErrBodyTooLarge      = "body-too-large"     // over 1 MiB
	ErrUnsupportedMedia  = "unsupported-media"  // not application/json
	ErrUnauthorized      = "unauthorized"       // missing or bad admin key
	ErrInsufficientScope = "insufficient-scope" // the key lacks the needed scope
	ErrNotFound          = "not-found"          // no such resource
	ErrConflict          = "conflict"           // unique value taken, or resource in use
	ErrTokenInURL        = "token-in-url"       // a token was sent in the query string
	ErrRateLimited       = "rate-limited"       // too many requests
	ErrMethodNotAllowed  = "method-not-allowed" // the path exists, the method does not
	ErrNoRoute           = "no-route"           // /v1/authz: no route of the route table covers the request
	ErrInvalidSignature  = "invalid-signature"  // /v1/authz: the request's RFC 9421 signature is missing where required, or does not hold
	ErrInvalidDPoPProof  = "invalid-dpop-proof" // /v1/authz: the DPoP proof of a DPoP-bound token is missing, bad, or of another key
	ErrUseDPoPNonce      = "use-dpop-nonce"     // /v1/authz: the DPoP proof lacks tokend's current nonce; DPoP-Nonce has it
	ErrCrossOrigin       = "cross-origin"       // /v1/me: a browser sent a state-changing request from another site
	ErrInternal          = "internal"           // a fault inside tokend; see the logs
)

// Problem is an RFC 9457 problem document (application/problem+json).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request field at fault, for invalid-field.
	Field string `json:"field,omitempty"`
	// RequestID ties the answer to the server's log line.
	RequestID string `json:"request_id,omitempty"`
}

// Code returns the stable error code of p, the part of Type after
// ProblemTypeBase.
func (p *Problem) Code() string {
	if len(p.Type) > len(ProblemTypeBase) && p.Type[:len(ProblemTypeBase)] == ProblemTypeBase {
		return p.Type[len(ProblemTypeBase):]
	}
	return p.Type
}

// Error makes a Problem usable as a Go error on the client side.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%s (%d): %s", p.Title, p.Status, p.Detail)
	}
	return fmt.Sprintf("%s (%d)", p.Title, p.Status)
}
