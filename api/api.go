// Package api holds the JSON wire types of tokend's management API and the
// stable error codes that the server returns and the client understands.
//
// It depends on the standard library only, so that any Go program can decode
// tokend's answers without pulling in the server. Field names follow the
// JSON documents in docs/api.md exactly.
package api

import (
	"bytes"
	"encoding/json"
	"time"
)

// RateLimit is one named limit: at most Limit requests per Window.
type RateLimit struct {
	Name   string   `json:"name"`
	Limit  int64    `json:"limit"`
	Window Duration `json:"window"`
}

// Policy constrains the keys of one API.
type Policy struct {
	// MaxKeyTTL caps a key's lifetime; zero means no cap. Keys created
	// without an expiry get exactly this lifetime.
	MaxKeyTTL Duration `json:"max_key_ttl,omitempty"`
	// RequireIPAllowlist refuses keys without allowed_cidrs.
	RequireIPAllowlist bool `json:"require_ip_allowlist,omitempty"`
	// DefaultRateLimits are copied onto keys created without ratelimits.
	DefaultRateLimits []RateLimit `json:"default_ratelimits,omitempty"`
	// DynamicClientScopes are the scopes of this API that dynamically
	// registered OAuth clients (RFC 7591) may obtain. Empty, the
	// default, keeps the API out of their reach.
	DynamicClientScopes []string `json:"dynamic_client_scopes,omitempty"`
	// ScopeDescriptions say in words what each scope allows, for the
	// consent page; scopes without one are shown by name.
	ScopeDescriptions map[string]string `json:"scope_descriptions,omitempty"`
	// UserScopes says which scopes people may hold in personal access
	// tokens for this API, by group. Without an entry that matches a
	// person, they may hold no personal access token for the API.
	UserScopes []UserScopes `json:"user_scopes,omitempty"`
	// PATMaxTTL caps a personal access token's lifetime; zero means
	// max_key_ttl applies (and, if that is zero too, no cap).
	PATMaxTTL Duration `json:"pat_max_ttl,omitempty"`
	// PATAllowNoExpiry lets people create personal access tokens without
	// an expiry. It is refused while a maximum lifetime applies.
	PATAllowNoExpiry bool `json:"pat_allow_no_expiry,omitempty"`
	// RequireSignedRequests makes every request with the API's keys carry
	// an RFC 9421 signature by the key's signing key; an unsigned one
	// verifies as SIGNATURE_REQUIRED. New keys must then have a signing
	// key.
	RequireSignedRequests bool `json:"require_signed_requests,omitempty"`
	// ApproveDynamicClients holds every dynamically registered client
	// (RFC 7591, and client ID metadata document clients) that may
	// obtain a scope of this API pending until an administrator approves
	// it: until then it gets no token (unauthorized_client).
	ApproveDynamicClients bool `json:"approve_dynamic_clients,omitempty"`
	// PATApprovalScopes are scopes of the API that a personal access
	// token may hold only once an administrator approves it: a token
	// asking any of them is created pending, and verifies as
	// PENDING_APPROVAL until then.
	PATApprovalScopes []string `json:"pat_approval_scopes,omitempty"`
}

// UserScopes grants Scopes to the members of Group, or to every user
// when Everyone is set (exactly one of the two is given). A person may
// hold a personal access token for the API when at least one entry
// matches them, with scopes from the union of the matching entries.
type UserScopes struct {
	Group    string   `json:"group,omitempty"`
	Everyone bool     `json:"everyone,omitempty"`
	Scopes   []string `json:"scopes"`
}

// API is a resource server whose keys tokend issues and verifies.
type API struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Audience  string    `json:"audience"`
	Scopes    []string  `json:"scopes"`
	KeyPrefix string    `json:"key_prefix"`
	Policy    Policy    `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateAPIRequest is the body of POST /v1/apis.
type CreateAPIRequest struct {
	Name      string   `json:"name"`
	Audience  string   `json:"audience"`
	Scopes    []string `json:"scopes"`
	KeyPrefix string   `json:"key_prefix"`
	Policy    Policy   `json:"policy"`
}

// UpdateAPIRequest is the body of PATCH /v1/apis/{id}; absent fields keep
// their value. The audience and key prefix cannot change, because issued
// keys and resource servers depend on them.
type UpdateAPIRequest struct {
	Name   *string   `json:"name,omitempty"`
	Scopes *[]string `json:"scopes,omitempty"`
	Policy *Policy   `json:"policy,omitempty"`
}

// APIList is the answer of GET /v1/apis.
type APIList struct {
	APIs []API `json:"apis"`
}

// Refill restores a key's credits to Amount once every Interval.
type Refill struct {
	Amount   int64    `json:"amount"`
	Interval Duration `json:"interval"`
}

// Credits is a key's usage allowance.
type Credits struct {
	Remaining int64   `json:"remaining"`
	Refill    *Refill `json:"refill,omitempty"`
}

// Key is an API key as the management API shows it. The secret is never
// part of it; the display fragments Start and End identify it to people.
type Key struct {
	ID           string          `json:"id"`
	APIID        string          `json:"api_id"`
	Subject      string          `json:"subject"`
	Name         string          `json:"name,omitempty"`
	Prefix       string          `json:"prefix"`
	Start        string          `json:"start"`
	End          string          `json:"end"`
	Scopes       []string        `json:"scopes"`
	ExpiresAt    *time.Time      `json:"expires_at,omitempty"`
	AllowedCIDRs []string        `json:"allowed_cidrs,omitempty"`
	RateLimits   []RateLimit     `json:"ratelimits,omitempty"`
	Credits      *Credits        `json:"credits,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	Enabled      bool            `json:"enabled"`
	RevokedAt    *time.Time      `json:"revoked_at,omitempty"`
	// RevokedReason says why the key was revoked, when tokend knows:
	// RevokedLeaked, or absent.
	RevokedReason string     `json:"revoked_reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastUsedAt    *time.Time `json:"last_used_at,omitempty"`
	// UsageCount counts successful verifications; it and LastUsedAt are
	// written in batches, so they may trail by a few seconds.
	UsageCount int64 `json:"usage_count"`
	// DPoPJKT is the thumbprint of the DPoP key the key is bound to
	// (RFC 9449): it is good only with a proof of that key.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Signing is the key's request-signing key (RFC 9421), if it has one.
	Signing *KeySigning `json:"signing,omitempty"`
}

// The request-signing algorithms (RFC 9421 §3.3).
const (
	SigHMACSHA256 = "hmac-sha256"
	SigEd25519    = "ed25519"
	SigECDSAP256  = "ecdsa-p256-sha256"
)

// KeySigning describes a key's request-signing key. A signature names
// the key by its ID in keyid.
type KeySigning struct {
	// Alg is SigHMACSHA256, SigEd25519 or SigECDSAP256.
	Alg string `json:"alg"`
	// PublicKey is the registered public key as PEM (PKIX), for ed25519
	// and ecdsa-p256-sha256. An HMAC secret is never shown again.
	PublicKey string `json:"public_key,omitempty"`
}

// KeySigningRequest asks for a request-signing key on a new key: for
// hmac-sha256 tokend makes a 32-byte secret and returns it once (in
// CreatedKey.SigningSecret); for ed25519 and ecdsa-p256-sha256 the caller
// registers its public key, as PEM in PublicKey or as a JWK in PublicJWK.
type KeySigningRequest struct {
	Alg       string          `json:"alg"`
	PublicKey string          `json:"public_key,omitempty"`
	PublicJWK json.RawMessage `json:"public_jwk,omitempty"`
}

// CreateKeyRequest is the body of POST /v1/keys. ExpiresAt and TTL are
// alternatives; Enabled defaults to true.
type CreateKeyRequest struct {
	APIID        string          `json:"api_id"`
	Subject      string          `json:"subject"`
	Name         string          `json:"name,omitempty"`
	Scopes       []string        `json:"scopes,omitempty"`
	ExpiresAt    *time.Time      `json:"expires_at,omitempty"`
	TTL          *Duration       `json:"ttl,omitempty"`
	AllowedCIDRs []string        `json:"allowed_cidrs,omitempty"`
	RateLimits   []RateLimit     `json:"ratelimits,omitempty"`
	Credits      *Credits        `json:"credits,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	Enabled      *bool           `json:"enabled,omitempty"`
	// Signing gives the key a request-signing key (RFC 9421).
	Signing *KeySigningRequest `json:"signing,omitempty"`
	// DPoPJWK, a public JWK (EC P-256, Ed25519 or RSA), binds the key to
	// it (RFC 9449): the key alone is then refused, and every use needs
	// a DPoP proof of this key. Its thumbprint is stored, never the key.
	DPoPJWK json.RawMessage `json:"dpop_jwk,omitempty"`
}

// CreatedKey is the answer of POST /v1/keys and of a rotation: the key and
// its secret, the only time the secret is ever returned.
type CreatedKey struct {
	Key    Key    `json:"key"`
	Secret string `json:"secret"`
	// SigningSecret is the key's hmac-sha256 signing secret, base64
	// (standard, padded), returned this once; tokend keeps it encrypted.
	SigningSecret string `json:"signing_secret,omitempty"`
}

// UpdateKeyRequest is the body of PATCH /v1/keys/{id}; absent fields keep
// their value. An explicit JSON null clears ExpiresAt, Credits and
// Metadata; ClearExpiry and friends are how the Go client says the same.
type UpdateKeyRequest struct {
	Subject      *string             `json:"subject,omitempty"`
	Name         *string             `json:"name,omitempty"`
	Scopes       *[]string           `json:"scopes,omitempty"`
	ExpiresAt    Nullable[time.Time] `json:"expires_at,omitzero"`
	AllowedCIDRs *[]string           `json:"allowed_cidrs,omitempty"`
	RateLimits   *[]RateLimit        `json:"ratelimits,omitempty"`
	Credits      Nullable[Credits]   `json:"credits,omitzero"`
	Metadata     json.RawMessage     `json:"metadata,omitempty"`
	Enabled      *bool               `json:"enabled,omitempty"`
}

// Nullable is a PATCH field that distinguishes absent (Set false), null
// (Set true, Null true) and a value.
type Nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Some returns a Nullable holding v.
func Some[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: v} }

// Null returns a Nullable that clears the field.
func Null[T any]() Nullable[T] { return Nullable[T]{Set: true, Null: true} }

// IsZero reports whether n is absent, so that omitzero drops it.
func (n Nullable[T]) IsZero() bool { return !n.Set }

// MarshalJSON encodes null or the value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Null {
		return []byte("null"), nil
	}
	return json.Marshal(n.Value)
}

// UnmarshalJSON records that the field was present, and whether it was
// null. The value is decoded as strictly as the body around it: an
// unknown field inside ({"credits":{"remaning":5}}) is an error, not a
// silent zero.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&n.Value)
}

// RotateKeyRequest is the body of POST /v1/keys/{id}/rotate. Grace is how
// long the old secret stays valid, from 0 to 168h.
type RotateKeyRequest struct {
	Grace Duration `json:"grace"`
}

// KeyList is a page of GET /v1/keys. NextCursor is empty on the last page.
type KeyList struct {
	Keys       []Key  `json:"keys"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// VerifyRequest is the body of POST /v1/verify.
type VerifyRequest struct {
	Token    string   `json:"token"`
	Audience string   `json:"audience,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	ClientIP string   `json:"client_ip,omitempty"`
	// Cost is how many credits the request consumes; nil means 1.
	Cost *int64 `json:"cost,omitempty"`
	// DPoP is the DPoP proof that came with the token and the request
	// it came with; a token bound to a key is VALID only with a proof of
	// that key for this method and URL.
	DPoP *VerifyDPoP `json:"dpop,omitempty"`
	// Request is the request the token came with, for checking its RFC
	// 9421 signature. Without it, a key whose API requires signed
	// requests is SIGNATURE_REQUIRED.
	Request *SignedRequest `json:"request,omitempty"`
}

// SignedRequest is what an RFC 9421 signature covers of a request: its
// method, its absolute target URI, and its header fields, among them
// Signature-Input, Signature and Content-Digest. tokend cannot see the
// body: the caller recomputes the body's digest against Content-Digest
// (the gateway, forward-auth's upstream and tokenauth do) and says
// HasBody, so that content-digest must be covered.
type SignedRequest struct {
	Method string `json:"method"`
	// TargetURI is absolute: scheme://authority/path?query.
	TargetURI string `json:"target_uri"`
	// Authority, if given, must be the authority of TargetURI.
	Authority string `json:"authority,omitempty"`
	// Headers holds the request's header fields. Names are matched
	// without regard to case, so each field is given once, with all its
	// values: a name given twice in different cases is refused.
	Headers map[string][]string `json:"headers"`
	HasBody bool                `json:"has_body,omitempty"`
}

// Code is the outcome of a verification.
type Code string

// The verification outcomes, checked in this order (DESIGN §3).
const (
	CodeValid    Code = "VALID"
	CodeNotFound Code = "NOT_FOUND"
	CodeDisabled Code = "DISABLED"
	CodeExpired  Code = "EXPIRED"
	CodeRevoked  Code = "REVOKED"
	// CodePendingApproval: the credential awaits an administrator's
	// approval (GET /v1/approvals); it is refused until approved.
	CodePendingApproval   Code = "PENDING_APPROVAL"
	CodeForbiddenIP       Code = "FORBIDDEN_IP"
	CodeInsufficientScope Code = "INSUFFICIENT_SCOPE"
	// CodeSignatureRequired: the API requires signed requests, and the
	// request is not signed (or the key has no signing key).
	CodeSignatureRequired Code = "SIGNATURE_REQUIRED"
	// CodeSignatureInvalid: the request's signature does not hold;
	// VerifyResponse.Problem says what did not match.
	CodeSignatureInvalid Code = "SIGNATURE_INVALID"
	CodeRateLimited      Code = "RATE_LIMITED"
	CodeUsageExceeded    Code = "USAGE_EXCEEDED"
	// The token is bound to a DPoP key and the request's proof is
	// missing, bad, or of another key; checked right after existence.
	CodeInvalidDPoPProof Code = "INVALID_DPOP_PROOF"
	// The proof lacks the server nonce; DPoPNonce holds the one to use.
	CodeUseDPoPNonce Code = "USE_DPOP_NONCE"
	// CodeDPoPNotBound: the token came with a DPoP proof (it was sent as
	// Authorization: DPoP) but is not bound to a DPoP key; checked, as a
	// bound token's proof is, right after existence, so that nothing is
	// spent. The client must send it as Authorization: Bearer.
	CodeDPoPNotBound Code = "NOT_DPOP_BOUND"
)

// Codes lists every Code in check order.
var Codes = []Code{CodeValid, CodeNotFound, CodeDisabled, CodeExpired, CodeRevoked, CodePendingApproval,
	CodeForbiddenIP, CodeInsufficientScope, CodeSignatureRequired, CodeSignatureInvalid, CodeRateLimited, CodeUsageExceeded, CodeInvalidDPoPProof, CodeUseDPoPNonce,
	CodeDPoPNotBound}

// TokenInfo describes the verified token.
type TokenInfo struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	APIID     string          `json:"api_id"`
	Subject   string          `json:"subject"`
	Name      string          `json:"name,omitempty"`
	Scopes    []string        `json:"scopes"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	// ClientID is the OAuth client an access token was issued to.
	ClientID string `json:"client_id,omitempty"`
	// JKT is the RFC 7638 thumbprint of the DPoP key (RFC 9449) the
	// token is bound to: it is good only with a proof of that key.
	JKT string `json:"jkt,omitempty"`
}

// RateLimitState is one named limit after this verification.
type RateLimitState struct {
	Name      string    `json:"name"`
	Limit     int64     `json:"limit"`
	Remaining int64     `json:"remaining"`
	Reset     time.Time `json:"reset"`
	// Window is the limit's window: it admits Limit requests per Window.
	Window Duration `json:"window,omitempty"`
	// RetryAfter is how long until this limit admits a request again:
	// present only when it refused this one. A refused request may be
	// retried once every limit admits it, after the longest RetryAfter.
	RetryAfter Duration `json:"retry_after,omitempty"`
}

// CreditState is a key's credits after this verification.
type CreditState struct {
	Remaining int64 `json:"remaining"`
}

// VerifyResponse is the answer of POST /v1/verify, always with status 200.
// Token is present when the token was found.
type VerifyResponse struct {
	Valid      bool             `json:"valid"`
	Code       Code             `json:"code"`
	Token      *TokenInfo       `json:"token,omitempty"`
	RateLimits []RateLimitState `json:"ratelimits,omitempty"`
	Credits    *CreditState     `json:"credits,omitempty"`
	// Problem says, for SIGNATURE_REQUIRED and SIGNATURE_INVALID, what
	// did not match.
	Problem string `json:"problem,omitempty"`
	// SignatureChecked is set when the answer depended on the request's
	// signature (the key has a signing key, or its API requires signed
	// requests): it holds for that one request, and must not be cached.
	SignatureChecked bool `json:"signature_checked,omitempty"`
	// DPoPNonce, with USE_DPOP_NONCE, is the nonce the client must put
	// in its next proof: send it in a DPoP-Nonce response header.
	DPoPNonce string `json:"dpop_nonce,omitempty"`
	// DPoPError says why a proof was refused (INVALID_DPOP_PROOF).
	DPoPError string `json:"dpop_error,omitempty"`
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID         string          `json:"id"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	ClientIP   string          `json:"client_ip,omitempty"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// AuditList is a page of GET /v1/audit, newest first.
type AuditList struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status  string            `json:"status"`
	Details map[string]string `json:"details,omitempty"`
}

// VerifyDPoP is the DPoP part of a verification (RFC 9449 §7.1): the
// request's DPoP header, method and URL (as the client addressed it,
// the public URL behind a proxy; query and fragment are ignored).
type VerifyDPoP struct {
	Proof  string `json:"proof"`
	Method string `json:"method"`
	URL    string `json:"url"`
}
