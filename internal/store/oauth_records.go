package store

import (
	"errors"
	"time"
)

// ErrTokenUsed is returned by RotateRefreshToken when the refresh token
// was used or revoked before the rotation could mark it used: a replay,
// or a concurrent use of the same token.
var ErrTokenUsed = errors.New("refresh token already used or revoked")

// Client is an OAuth 2.0 client. It never holds a secret: SecretHash is
// the SHA-256 of the current client secret (nil for clients that
// authenticate with private_key_jwt), SecretStart and SecretEnd its
// display fragments, and RegistrationHash the SHA-256 of the RFC 7592
// registration access token of a dynamically registered client (nil
// otherwise).
type Client struct {
	ID               string
	Name             string
	GrantTypes       []string
	APIScopes        map[string][]string // API id → scopes the client may request
	AccessTokenTTL   time.Duration
	RefreshTokenTTL  time.Duration
	TokenFormat      string // "jwt" or "opaque"
	AuthMethod       string // RFC 7591 token_endpoint_auth_method
	JWKS             []byte // JSON JWK set for private_key_jwt, or nil
	SecretHash       []byte
	SecretStart      string
	SecretEnd        string
	RegistrationHash []byte
	Dynamic          bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// RedirectURIs are the registered redirection endpoints of the
	// authorization code grant; PostLogoutRedirectURIs those of
	// RP-initiated logout.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// FirstParty clients are the operator's own: the consent page is
	// skipped for them.
	FirstParty bool
	// IDTokenAlg is the client's id_token_signed_response_alg; "" means
	// the default (RS256).
	IDTokenAlg string
	Meta       ClientMeta
	// DPoPBound is RFC 9449's dpop_bound_access_tokens: every token
	// request of the client must carry a DPoP proof.
	DPoPBound bool
	// Approval is a dynamically registered client's approval, when the
	// server or an API's policy asked for one.
	Approval Approval
}

// ClientMeta is a client's descriptive RFC 7591 metadata, kept to show
// people and to echo in registration answers.
type ClientMeta struct {
	ClientURI       string
	LogoURI         string
	Contacts        []string
	ApplicationType string // "web" or "native"
	// Scope is the client's registered scope value (RFC 7591 §2): what it
	// asks for when a request names none.
	Scope string
}

// AccessToken is an opaque OAuth access token, stored under the SHA-256
// of its value. FamilyID names the refresh-token family it was issued
// with, if any. Zero RevokedAt means not revoked.
type AccessToken struct {
	Hash      [32]byte
	ID        string
	ClientID  string
	APIID     string
	Subject   string
	Scopes    []string
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
	// JKT is the thumbprint of the DPoP key the token is bound to, ""
	// for a bearer token.
	JKT string
}

// AccessRecord is what verification needs about an opaque access token:
// the token and the audience of its API.
type AccessRecord struct {
	Token    AccessToken
	Audience string
}

// RefreshToken is one refresh token of a family: every rotation adds a
// token to the family and marks the presented one used. AccessJTI and
// AccessExpiresAt name the JWT access token issued with it, so that
// revoking the family can revoke that JWT too. Zero UsedAt and RevokedAt
// mean not used and not revoked.
type RefreshToken struct {
	Hash            [32]byte
	ID              string
	FamilyID        string
	ClientID        string
	APIID           string
	Subject         string
	Scopes          []string
	AccessJTI       string
	AccessExpiresAt time.Time
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          time.Time
	RevokedAt       time.Time
	// JKT is the thumbprint of the DPoP key a public client's refresh
	// token is bound to (RFC 9449 §5): a refresh must prove it. "" for
	// none.
	JKT string
	// IP is the client address of the token request that issued it
	// ("" when unknown): where the app last refreshed from.
	IP string
}

// FamilyRevocation is what revoking a refresh-token family reached, for
// cache invalidation: the hashes of its opaque access tokens, the number
// of refresh tokens revoked, and the ids of its unexpired JWT access
// tokens.
type FamilyRevocation struct {
	AccessHashes  [][32]byte
	RefreshTokens int64
	JTIs          []string
}
