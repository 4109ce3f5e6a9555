package api

import (
	"encoding/json"
	"time"
)

// SigningKey is one of tokend's JWT signing keys, as GET /v1/signing-keys
// lists it: never the private key. State is "pending" (published, not
// signing yet), "active" (signing), "retired" (published until
// ExpiresAt so that the tokens it signed still verify) or "expired" (no
// longer published; deleted shortly).
type SigningKey struct {
	KID       string          `json:"kid"`
	Alg       string          `json:"alg"`
	State     string          `json:"state"`
	CreatedAt time.Time       `json:"created_at"`
	ActiveAt  time.Time       `json:"active_at"`
	RetiredAt *time.Time      `json:"retired_at,omitempty"`
	ExpiresAt *time.Time      `json:"expires_at,omitempty"`
	PublicJWK json.RawMessage `json:"public_jwk"`
}

// SigningKeyList is the answer of GET /v1/signing-keys, oldest first.
type SigningKeyList struct {
	Keys []SigningKey `json:"keys"`
}
