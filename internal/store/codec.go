package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// micros encodes t as unix microseconds; the zero time is NULL.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros decodes what micros encoded, in UTC.
func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}

// mustTime is micros for NOT NULL columns.
func mustTime(what string, t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, fmt.Errorf("%s is not set", what)
	}
	return t.UnixMicro(), nil
}

// jsonText holds caller-supplied JSON (metadata, event before/after) as
// nullable TEXT.
func jsonText(what string, b []byte) (sql.NullString, error) {
	if b == nil {
		return sql.NullString{}, nil
	}
	if !json.Valid(b) {
		return sql.NullString{}, fmt.Errorf("%s is not valid JSON", what)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func fromJSONText(s sql.NullString) []byte {
	if !s.Valid {
		return nil
	}
	return []byte(s.String)
}

// rateLimitJSON is the stored form of a RateLimit. The stored format is
// spelled out here so renaming a Go field cannot change it.
type rateLimitJSON struct {
	Name     string `json:"name"`
	Limit    int64  `json:"limit"`
	WindowNS int64  `json:"window_ns"`
}

type policyJSON struct {
	MaxKeyTTLNS        int64             `json:"max_key_ttl_ns"`
	RequireIPAllowlist bool              `json:"require_ip_allowlist"`
	DefaultRateLimits  []rateLimitJSON   `json:"default_rate_limits"`
	DynamicScopes      []string          `json:"dynamic_client_scopes,omitempty"`
	ScopeDescriptions  map[string]string `json:"scope_descriptions,omitempty"`
	UserScopes         []userScopesJSON  `json:"user_scopes,omitempty"`
	PATMaxTTLNS        int64             `json:"pat_max_ttl_ns,omitempty"`
	PATAllowNoExpiry   bool              `json:"pat_allow_no_expiry,omitempty"`
	RequireSigned      bool              `json:"require_signed_requests,omitempty"`
	ApproveClients     bool              `json:"approve_dynamic_clients,omitempty"`
	PATApprovalScopes  []string          `json:"pat_approval_scopes,omitempty"`
}

type userScopesJSON struct {
	Group    string   `json:"group,omitempty"`
	Everyone bool     `json:"everyone,omitempty"`
	Scopes   []string `json:"scopes"`
}

// toRateLimitsJSON and fromRateLimitsJSON keep nil and empty apart, as
// encoding/json does for []string.
func toRateLimitsJSON(rls []RateLimit) []rateLimitJSON {
	if rls == nil {
		return nil
	}
	out := make([]rateLimitJSON, len(rls))
	for i, rl := range rls {
		out[i] = rateLimitJSON{Name: rl.Name, Limit: rl.Limit, WindowNS: int64(rl.Window)}
	}
	return out
}

func fromRateLimitsJSON(rls []rateLimitJSON) []RateLimit {
	if rls == nil {
		return nil
	}
	out := make([]RateLimit, len(rls))
	for i, rl := range rls {
		out[i] = RateLimit{Name: rl.Name, Limit: rl.Limit, Window: time.Duration(rl.WindowNS)}
	}
	return out
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func encodePolicy(p Policy) (string, error) {
	return encodeJSON(policyJSON{
		MaxKeyTTLNS:        int64(p.MaxKeyTTL),
		RequireIPAllowlist: p.RequireIPAllowlist,
		DefaultRateLimits:  toRateLimitsJSON(p.DefaultRateLimits),
		DynamicScopes:      p.DynamicClientScopes,
		ScopeDescriptions:  p.ScopeDescriptions,
		UserScopes:         toUserScopesJSON(p.UserScopes),
		PATMaxTTLNS:        int64(p.PATMaxTTL),
		PATAllowNoExpiry:   p.PATAllowNoExpiry,
		RequireSigned:      p.RequireSignedRequests,
		ApproveClients:     p.ApproveDynamicClients,
		PATApprovalScopes:  p.PATApprovalScopes,
	})
}

func toUserScopesJSON(us []UserScopes) []userScopesJSON {
	if us == nil {
		return nil
	}
	out := make([]userScopesJSON, len(us))
	for i, u := range us {
		out[i] = userScopesJSON{Group: u.Group, Everyone: u.Everyone, Scopes: u.Scopes}
	}
	return out
}

func fromUserScopesJSON(us []userScopesJSON) []UserScopes {
	if us == nil {
		return nil
	}
	out := make([]UserScopes, len(us))
	for i, u := range us {
		out[i] = UserScopes{Group: u.Group, Everyone: u.Everyone, Scopes: u.Scopes}
	}
	return out
}

func decodePolicy(s string) (Policy, error) {
	var p policyJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return Policy{}, err
	}
	return Policy{
		MaxKeyTTL:             time.Duration(p.MaxKeyTTLNS),
		RequireIPAllowlist:    p.RequireIPAllowlist,
		DefaultRateLimits:     fromRateLimitsJSON(p.DefaultRateLimits),
		DynamicClientScopes:   p.DynamicScopes,
		ScopeDescriptions:     p.ScopeDescriptions,
		UserScopes:            fromUserScopesJSON(p.UserScopes),
		PATMaxTTL:             time.Duration(p.PATMaxTTLNS),
		PATAllowNoExpiry:      p.PATAllowNoExpiry,
		RequireSignedRequests: p.RequireSigned,
		ApproveDynamicClients: p.ApproveClients,
		PATApprovalScopes:     p.PATApprovalScopes,
	}, nil
}

func encodeRateLimits(rls []RateLimit) (string, error) {
	return encodeJSON(toRateLimitsJSON(rls))
}

func decodeRateLimits(s string) ([]RateLimit, error) {
	var rls []rateLimitJSON
	if err := json.Unmarshal([]byte(s), &rls); err != nil {
		return nil, err
	}
	return fromRateLimitsJSON(rls), nil
}

func decodeStrings(s string) ([]string, error) {
	var out []string
	err := json.Unmarshal([]byte(s), &out)
	return out, err
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func durationFromMicros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

// clientMetaJSON is the stored form of a ClientMeta.
type clientMetaJSON struct {
	ClientURI       string   `json:"client_uri,omitempty"`
	LogoURI         string   `json:"logo_uri,omitempty"`
	Contacts        []string `json:"contacts,omitempty"`
	ApplicationType string   `json:"application_type,omitempty"`
	Scope           string   `json:"scope,omitempty"`
}

func encodeClientMeta(m ClientMeta) (string, error) {
	return encodeJSON(clientMetaJSON(m))
}

func decodeClientMeta(s string) (ClientMeta, error) {
	var m clientMetaJSON
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return ClientMeta{}, err
	}
	return ClientMeta(m), nil
}

// emptyList stores a nil list as an empty one.
func emptyList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeList is decodeStrings for lists where empty and absent are the
// same: an empty list decodes as nil.
func decodeList(s string) ([]string, error) {
	out, err := decodeStrings(s)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}
