package api

import (
	"encoding/json"
	"time"
)

// Client is an OAuth 2.0 client as the management API shows it. Its
// secret is never part of it; SecretStart and SecretEnd identify the
// current one to people.
type Client struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// GrantTypes: client_credentials, authorization_code,
	// urn:ietf:params:oauth:grant-type:device_code and refresh_token.
	GrantTypes []string `json:"grant_types"`
	// APIScopes maps an API id to the scopes the client may request for
	// that API's audience.
	APIScopes       map[string][]string `json:"api_scopes"`
	AccessTokenTTL  Duration            `json:"access_token_ttl"`
	RefreshTokenTTL Duration            `json:"refresh_token_ttl"`
	// AccessTokenFormat is "jwt" (RFC 9068) or "opaque".
	AccessTokenFormat string `json:"access_token_format"`
	// TokenEndpointAuthMethod is client_secret_basic, client_secret_post,
	// private_key_jwt, or none for public clients (native apps, SPAs,
	// command-line tools), which may use authorization_code with PKCE and
	// the device grant only.
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	SecretStart             string          `json:"secret_start,omitempty"`
	SecretEnd               string          `json:"secret_end,omitempty"`
	ClientSettings
	// Dynamic is true for clients registered through RFC 7591.
	Dynamic bool `json:"dynamic"`
	// Approval is present when the server or an API's policy held the
	// dynamically registered client for an administrator's approval: a
	// pending or denied client gets no token.
	Approval  *ApprovalState `json:"approval,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ClientSettings are the settings of the user grants (authorization code
// and device), shared by the client, its creation and its update.
type ClientSettings struct {
	// RedirectURIs are the redirection endpoints of the authorization
	// code grant, matched exactly (any port for loopback IP redirects).
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// PostLogoutRedirectURIs are where RP-initiated logout may return.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// FirstParty clients are the operator's own: people are not asked to
	// consent.
	FirstParty bool `json:"first_party,omitempty"`
	// IDTokenSignedResponseAlg is RS256 (the default) or the server's
	// signing algorithm.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// ApplicationType is web (the default) or native.
	ApplicationType string `json:"application_type,omitempty"`
	// DPoPBoundAccessTokens (RFC 9449 §5.2) requires a DPoP proof with
	// every token request of the client.
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
}

// CreateClientRequest is the body of POST /v1/clients. Absent settings
// take their defaults: grant_types [client_credentials], access_token_ttl
// 1h, refresh_token_ttl 720h, access_token_format jwt,
// token_endpoint_auth_method client_secret_basic.
type CreateClientRequest struct {
	Name                    string              `json:"name"`
	GrantTypes              []string            `json:"grant_types,omitempty"`
	APIScopes               map[string][]string `json:"api_scopes"`
	AccessTokenTTL          *Duration           `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL         *Duration           `json:"refresh_token_ttl,omitempty"`
	AccessTokenFormat       string              `json:"access_token_format,omitempty"`
	TokenEndpointAuthMethod string              `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    json.RawMessage     `json:"jwks,omitempty"`
	ClientSettings
}

// UpdateClientRequest is the body of PATCH /v1/clients/{id}; absent
// fields keep their value. The authentication method may change between
// client_secret_basic and client_secret_post only.
type UpdateClientRequest struct {
	Name                     *string              `json:"name,omitempty"`
	GrantTypes               *[]string            `json:"grant_types,omitempty"`
	APIScopes                *map[string][]string `json:"api_scopes,omitempty"`
	AccessTokenTTL           *Duration            `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL          *Duration            `json:"refresh_token_ttl,omitempty"`
	AccessTokenFormat        *string              `json:"access_token_format,omitempty"`
	TokenEndpointAuthMethod  *string              `json:"token_endpoint_auth_method,omitempty"`
	JWKS                     json.RawMessage      `json:"jwks,omitempty"`
	RedirectURIs             *[]string            `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   *[]string            `json:"post_logout_redirect_uris,omitempty"`
	FirstParty               *bool                `json:"first_party,omitempty"`
	IDTokenSignedResponseAlg *string              `json:"id_token_signed_response_alg,omitempty"`
	DPoPBoundAccessTokens    *bool                `json:"dpop_bound_access_tokens,omitempty"`
}

// CreatedClient is the answer of POST /v1/clients and of a secret
// rotation: the client and its secret, the only time the secret is ever
// returned. Secret is empty for private_key_jwt clients. A rotation of a
// dynamically registered client's secret also replaces its RFC 7592
// registration access token, returned once as RegistrationAccessToken.
type CreatedClient struct {
	Client                  Client `json:"client"`
	Secret                  string `json:"client_secret,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
}

// ClientList is a page of GET /v1/clients. NextCursor is empty on the
// last page.
type ClientList struct {
	Clients    []Client `json:"clients"`
	NextCursor string   `json:"next_cursor,omitempty"`
}
