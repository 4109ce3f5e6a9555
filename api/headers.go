package api

// The identity headers: what `tokend gateway` sends upstream with a
// request it lets through, and what /v1/authz answers 200 with for a
// proxy to pass on. The gateway removes every Tokend-* header a client
// sent, so an upstream behind it can trust them; behind nginx, Traefik
// or Envoy, the proxy must be configured to do the same (see
// docs/protecting-an-api.md). The gateway leaves out a header whose
// value would be empty; /v1/authz sends it empty, so that a proxy copying
// the headers overwrites any the client sent.
const (
	// HeaderSubject is the token's subject (an API key's subject, or the
	// OAuth client of a client_credentials token).
	HeaderSubject = "Tokend-Subject"
	// HeaderTokenID identifies the token: the key id or the JWT's jti.
	HeaderTokenID = "Tokend-Token-Id"
	// HeaderTokenKind is the kind of token (api_key, access_token,
	// jwt_access_token, ...), as TokenInfo.Kind.
	HeaderTokenKind = "Tokend-Token-Kind"
	// HeaderScopes are the token's scopes, separated by one space.
	HeaderScopes = "Tokend-Scopes"
	// HeaderClientID is the OAuth client an access token was issued to.
	HeaderClientID = "Tokend-Client-Id"
	// HeaderAPIID is the id of the tokend API the token belongs to.
	HeaderAPIID = "Tokend-Api-Id"
	// HeaderIdentity carries, when `tokend gateway --identity-key` is
	// set, a short-lived JWT of the same identity signed by the gateway
	// (typ IdentityJWTType), for an upstream that verifies it against the
	// gateway's JWKS (IdentityJWKSPath on the gateway) instead of trusting
	// the network path. It is never sent empty.
	HeaderIdentity = "Tokend-Identity"
	// HeaderVerifyKey carries the verify key with which a proxy calls
	// /v1/authz (the client's own token stays in Authorization).
	HeaderVerifyKey = "Tokend-Verify-Key"
)

// IdentityJWTType is the typ header of the gateway's identity JWTs, so
// that one is never taken for an access token (at+jwt) or an ID token.
const IdentityJWTType = "tokend-identity+jwt"

// IdentityJWKSPath is where `tokend gateway --identity-key` publishes the
// public key its identity JWTs verify with, on its own listener, before
// any route: a JSON Web Key Set (RFC 7517).
const IdentityJWKSPath = "/.well-known/tokend-identity-jwks.json"

// IdentityClaims are the claims of an identity JWT. iss is the gateway's
// --identity-issuer, aud the audience of the route the request matched
// (the API the upstream serves), and exp at most --identity-ttl after
// iat; the rest describe the caller as the identity headers do, empty
// values left out.
type IdentityClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expiry    int64  `json:"exp"`
	ID        string `json:"jti"`
	TokenID   string `json:"token_id,omitempty"`
	TokenKind string `json:"token_kind,omitempty"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	APIID     string `json:"api_id,omitempty"`
}
