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
	// HeaderVerifyKey carries the verify key with which a proxy calls
	// /v1/authz (the client's own token stays in Authorization).
	HeaderVerifyKey = "Tokend-Verify-Key"
)
