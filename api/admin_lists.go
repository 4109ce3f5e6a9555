package api

import "time"

// The admin lists of every user's personal access tokens (GET
// /v1/tokens, a TokenList) and OAuth grants (GET /v1/grants), and their
// bulk revokes.

// AdminGrant is one user's consent to an OAuth client, as the admin list
// shows it.
type AdminGrant struct {
	UserID     string     `json:"user_id"`
	ClientID   string     `json:"client_id"`
	ClientName string     `json:"client_name"`
	Scopes     []string   `json:"scopes"`
	APIIDs     []string   `json:"api_ids"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// AdminGrantList is a page of GET /v1/grants. NextCursor is empty on the
// last page.
type AdminGrantList struct {
	Grants     []AdminGrant `json:"grants"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// RevokeTokensRequest is the body of POST /v1/tokens/revoke: the
// personal access tokens to revoke, 1 to 100.
type RevokeTokensRequest struct {
	IDs []string `json:"ids"`
}

// GrantRef names one grant: a user's consent to a client.
type GrantRef struct {
	UserID   string `json:"user_id"`
	ClientID string `json:"client_id"`
}

// RevokeGrantsRequest is the body of POST /v1/grants/revoke: the grants
// to revoke, 1 to 100.
type RevokeGrantsRequest struct {
	Grants []GrantRef `json:"grants"`
}

// Revoked is the answer of a bulk revoke: how many it revoked.
type Revoked struct {
	Revoked int `json:"revoked"`
}
