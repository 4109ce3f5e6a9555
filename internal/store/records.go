package store

import (
	"errors"
	"time"
)

// Sentinel errors. Methods name the ones they return.
var (
	// ErrNotFound means the addressed row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (audience, key prefix, id) is taken.
	ErrConflict = errors.New("conflict")
	// ErrDisabled: a session would be made for a disabled user.
	ErrDisabled = errors.New("user disabled")
	// ErrBadCursor means a list was given a cursor it did not return.
	ErrBadCursor = errors.New("bad cursor")
	// ErrInUse means the row is still referenced by live rows.
	ErrInUse = errors.New("in use")
)

// RateLimit is one named limit: Limit requests per Window.
type RateLimit struct {
	Name   string
	Limit  int64
	Window time.Duration
}

// Policy constrains the keys of an API.
type Policy struct {
	MaxKeyTTL          time.Duration
	RequireIPAllowlist bool
	DefaultRateLimits  []RateLimit
	// DynamicClientScopes are the scopes dynamically registered OAuth
	// clients may obtain; ScopeDescriptions describe scopes to people.
	DynamicClientScopes []string
	ScopeDescriptions   map[string]string
	// UserScopes grants scopes of personal access tokens by group.
	UserScopes []UserScopes
	// PATMaxTTL caps personal access tokens (0: MaxKeyTTL applies).
	PATMaxTTL time.Duration
	// PATAllowNoExpiry allows personal access tokens without expiry.
	PATAllowNoExpiry bool
	// RequireSignedRequests refuses requests with the API's keys that are
	// not signed (RFC 9421) with the key's signing key.
	RequireSignedRequests bool
	// ApproveDynamicClients holds dynamically registered clients (and
	// client ID metadata document clients) that may obtain the API's
	// scopes for an administrator's approval.
	ApproveDynamicClients bool
	// PATApprovalScopes are scopes a personal access token may hold only
	// after an administrator's approval: a token asking any of them is
	// created pending.
	PATApprovalScopes []string
}

// The states of an approval (Approval.State). "" means none was needed.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
)

// Approval is where a credential stands with an administrator's
// approval, for the credentials an API's policy holds for one: a personal
// access token with an approval-gated scope, a dynamically registered
// client. A pending or denied credential never verifies and never gets a
// token.
type Approval struct {
	// State is "", ApprovalPending, ApprovalApproved or ApprovalDenied.
	State string
	// Reason is the administrator's words, shown to the owner.
	Reason string
	// DecidedAt is when the administrator decided; zero while pending.
	DecidedAt time.Time
}

// UserScopes grants Scopes to the members of Group, or to everyone.
type UserScopes struct {
	Group    string
	Everyone bool
	Scopes   []string
}

// API is a resource server. Audience and KeyPrefix are unique.
type API struct {
	ID        string
	Name      string
	Audience  string
	Scopes    []string
	KeyPrefix string
	Policy    Policy
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Credits is a key's usage allowance. When RefillInterval is set,
// Remaining is reset to RefillAmount once per interval after RefilledAt.
type Credits struct {
	Remaining      int64
	RefillAmount   int64
	RefillInterval time.Duration
	RefilledAt     time.Time
}

// Key is an API key's settings. It never holds the secret; Start and End
// are the display fragments of the current secret. Zero times mean
// "never" (ExpiresAt, RevokedAt, LastUsedAt).
type Key struct {
	ID    string
	APIID string
	// UserID is the owner of a personal access token, "" for an API key.
	// It never changes.
	UserID       string
	Subject      string
	Name         string
	Prefix       string
	Start        string
	End          string
	Scopes       []string
	ExpiresAt    time.Time
	AllowedCIDRs []string
	RateLimits   []RateLimit
	Credits      *Credits // nil: unlimited
	Metadata     []byte   // a JSON object, or nil
	Enabled      bool
	RevokedAt    time.Time
	// RevokedReason says why the key was revoked, when tokend knows
	// (api.RevokedLeaked), or "".
	RevokedReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastUsedAt    time.Time
	UsageCount    int64
	// SigningAlg is the RFC 9421 algorithm of the key's request-signing
	// key, "" for none. SigningKey is, for hmac-sha256, the shared secret
	// sealed under the key-encryption key (the store never sees it in
	// clear), and otherwise the public key as PKIX DER. Both are set at
	// creation and never change.
	SigningAlg string
	SigningKey []byte
	// JKT is the RFC 7638 thumbprint of the DPoP key (RFC 9449) the key
	// is bound to: every use needs a proof of it. "" for a bearer key. It
	// never changes.
	JKT string
	// Approval is the personal access token's approval, when its API's
	// policy asked for one.
	Approval Approval
}

// Secret is one SHA-256 hash that authenticates as a key. A key has one
// current secret (zero ExpiresAt) and, after a rotation, old secrets that
// stay valid until their ExpiresAt.
type Secret struct {
	Hash      [32]byte
	KeyID     string
	Start     string
	End       string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// VerifyRecord is what verification needs about one secret: the secret,
// its key, and the audience of the key's API.
type VerifyRecord struct {
	Secret   Secret
	Key      Key
	Audience string
	// Owner and Policy are set for personal access tokens only (when
	// Key.UserID is set): the owner's state, nil if the owner no longer
	// exists, and the policy of the key's API.
	Owner  *Owner
	Policy Policy
	// RequireSigned is the API's policy.RequireSignedRequests, for every
	// key.
	RequireSigned bool
}

// Owner is what verification needs of a personal access token's owner.
type Owner struct {
	Enabled bool
	Groups  []string
}

// Event is one audit log entry. Before and After are JSON objects holding
// the changed settings, or nil. ID is assigned by the store and grows.
type Event struct {
	ID         int64
	Time       time.Time
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	ClientIP   string
	Before     []byte
	After      []byte
}

// KeyFilter selects keys for ListKeys. After is the cursor of the last
// key of the previous page (KeyCursor): the page starts after it. Limit
// is at least 1. Without Personal it selects API keys only; with
// Personal, personal access tokens only (of UserID, if set).
//
// Pages are in key ID order, except with ExpiringBy (soonest expiry
// first) or UnusedSince (least recently used first): each order has its
// index (migration 0011), so that a page costs the same at any depth.
type KeyFilter struct {
	APIID    string
	Subject  string
	Personal bool
	UserID   string
	After    string
	Limit    int
	// State keeps the keys in one state at Now; "" keeps all.
	State KeyState
	// ExpiringBy, when set, keeps the keys neither revoked nor expired
	// at Now whose expiry is at or before it.
	ExpiringBy time.Time
	// UnusedSince, when set, keeps the keys neither revoked nor expired
	// at Now that were last used before it, or never used and created
	// before it.
	UnusedSince time.Time
	// Now is the time State, ExpiringBy and UnusedSince are judged at.
	Now time.Time
}

// KeyState is a key's state at some time, for KeyFilter.State.
type KeyState string

// The states of a key: active (enabled, neither revoked nor expired),
// disabled (neither revoked nor expired), revoked, expired (and not
// revoked).
const (
	KeyActive   KeyState = "active"
	KeyDisabled KeyState = "disabled"
	KeyRevoked  KeyState = "revoked"
	KeyExpired  KeyState = "expired"
)

// EventFilter selects audit events for ListEvents, newest first. Before is
// an event ID: the page holds older events only (0: from the newest).
type EventFilter struct {
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Until      time.Time
	Before     int64
	Limit      int
}

// Usage is batched bookkeeping for one key: Count more successful
// verifications, the last at LastUsed.
type Usage struct {
	KeyID    string
	LastUsed time.Time
	Count    int64
}
