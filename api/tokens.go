package api

import (
	"encoding/json"
	"time"
)

// Token is a personal access token as the API shows it: a token a person
// holds for one API. The secret is never part of it; Start and End
// identify it to people. ExpiringSoon is set while the token expires
// within the next 7 days.
type Token struct {
	ID           string      `json:"id"`
	UserID       string      `json:"user_id"`
	APIID        string      `json:"api_id"`
	Name         string      `json:"name"`
	Prefix       string      `json:"prefix"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	Scopes       []string    `json:"scopes"`
	ExpiresAt    *time.Time  `json:"expires_at,omitempty"`
	ExpiringSoon bool        `json:"expiring_soon"`
	AllowedCIDRs []string    `json:"allowed_cidrs,omitempty"`
	RateLimits   []RateLimit `json:"ratelimits,omitempty"`
	RevokedAt    *time.Time  `json:"revoked_at,omitempty"`
	// RevokedReason says why the token was revoked, when tokend knows:
	// RevokedLeaked, or absent.
	RevokedReason string     `json:"revoked_reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastUsedAt    *time.Time `json:"last_used_at,omitempty"`
	UsageCount    int64      `json:"usage_count"`
	// DPoPJKT is the thumbprint of the DPoP key the token is bound to.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// Approval is present when the API's policy held the token for an
	// administrator's approval (policy.pat_approval_scopes): pending, or
	// the decision with its reason. A pending token verifies as
	// PENDING_APPROVAL; a denied one is revoked (RevokedDenied).
	Approval *ApprovalState `json:"approval,omitempty"`
}

// CreateTokenRequest is the body of POST /v1/users/{id}/tokens (and of
// the "my tokens" page's form). ExpiresAt and TTL are alternatives; one
// is required unless the API's policy allows tokens without expiry.
type CreateTokenRequest struct {
	APIID        string      `json:"api_id"`
	Name         string      `json:"name"`
	Scopes       []string    `json:"scopes,omitempty"`
	ExpiresAt    *time.Time  `json:"expires_at,omitempty"`
	TTL          *Duration   `json:"ttl,omitempty"`
	AllowedCIDRs []string    `json:"allowed_cidrs,omitempty"`
	RateLimits   []RateLimit `json:"ratelimits,omitempty"`
	// DPoPJWK binds the token to a public key, as for API keys.
	DPoPJWK json.RawMessage `json:"dpop_jwk,omitempty"`
}

// CreatedToken is the answer of a creation or regeneration: the token
// and its secret, the only time the secret is ever returned.
type CreatedToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// RegenerateTokenRequest is the body of POST /v1/tokens/{id}/regenerate.
// Grace is how long the old secret stays valid, from 0 to 168h.
type RegenerateTokenRequest struct {
	Grace Duration `json:"grace"`
}

// TokenList is a page of GET /v1/users/{id}/tokens. NextCursor is empty
// on the last page.
type TokenList struct {
	Tokens     []Token `json:"tokens"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// TokenUse is one line of a personal access token's recent uses: Count
// verifications in the minute starting at Minute, from client address IP,
// answered Code.
type TokenUse struct {
	Minute time.Time `json:"minute"`
	IP     string    `json:"ip"`
	Code   Code      `json:"code"`
	Count  int64     `json:"count"`
}

// TokenUseList is the answer of GET /v1/me/tokens/{id}/uses, newest
// first.
type TokenUseList struct {
	Uses []TokenUse `json:"uses"`
}
