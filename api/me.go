package api

import "time"

// The /v1/me endpoints: what a signed-in person holds, for themselves
// only. They authenticate with a session cookie or with a personal access
// token of the built-in API holding the tokend:self scope.

// Scope is one scope with the words the API's owner wrote for it (or, for
// the OpenID scopes, tokend's).
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Grant is an app a person authorized (OAuth consent): what they allowed
// it, when, when it last used the grant, and the refresh-token families
// it holds for them now.
type Grant struct {
	ClientID   string     `json:"client_id"`
	ClientName string     `json:"client_name"`
	Scopes     []Scope    `json:"scopes"`
	APIIDs     []string   `json:"api_ids"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Families   []Family   `json:"families"`
}

// Family is a live refresh-token family: one app's standing access for a
// person, until revoked or ExpiresAt. LastUsedAt is its last refresh (or
// its first issue) and LastIP the client address of that token request.
// Device says the person approved it through the device flow.
type Family struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name"`
	APIID      string    `json:"api_id"`
	Scopes     []Scope   `json:"scopes"`
	StartedAt  time.Time `json:"started_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastIP     string    `json:"last_ip,omitempty"`
	Device     bool      `json:"device"`
}

// GrantList is the answer of GET /v1/me/grants, by client id.
type GrantList struct {
	Grants []Grant `json:"grants"`
}

// FamilyList is the answer of GET /v1/me/device-sign-ins: the families
// the device flow started, most recently used first.
type FamilyList struct {
	Families []Family `json:"families"`
}

// RevokedAll is the answer of POST /v1/me/revoke-all: how much it ended.
type RevokedAll struct {
	Tokens   int64 `json:"tokens"`
	Grants   int   `json:"grants"`
	Families int   `json:"families"`
	Sessions int   `json:"sessions"`
}
