package apikey

import (
	"encoding/json"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// APIView is the wire form of an API.
func APIView(a store.API) api.API {
	return api.API{ID: a.ID, Name: a.Name, Audience: a.Audience, Scopes: nonNil(a.Scopes), KeyPrefix: a.KeyPrefix,
		Policy: api.Policy{MaxKeyTTL: api.Duration(a.Policy.MaxKeyTTL), RequireIPAllowlist: a.Policy.RequireIPAllowlist,
			DefaultRateLimits: limitsView(a.Policy.DefaultRateLimits), UserScopes: userScopesView(a.Policy.UserScopes),
			PATMaxTTL: api.Duration(a.Policy.PATMaxTTL), PATAllowNoExpiry: a.Policy.PATAllowNoExpiry,
			RequireSignedRequests: a.Policy.RequireSignedRequests,
			DynamicClientScopes:   a.Policy.DynamicClientScopes,
			ScopeDescriptions:     a.Policy.ScopeDescriptions,
			ApproveDynamicClients: a.Policy.ApproveDynamicClients,
			PATApprovalScopes:     a.Policy.PATApprovalScopes},
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// KeyView is the wire form of a key. It holds no secret.
func KeyView(k store.Key) api.Key {
	v := api.Key{ID: k.ID, APIID: k.APIID, Subject: k.Subject, Name: k.Name, Prefix: k.Prefix,
		Start: k.Start, End: k.End, Scopes: nonNil(k.Scopes), ExpiresAt: timePtr(k.ExpiresAt),
		AllowedCIDRs: k.AllowedCIDRs, RateLimits: limitsView(k.RateLimits), Metadata: json.RawMessage(k.Metadata),
		Enabled: k.Enabled, RevokedAt: timePtr(k.RevokedAt), RevokedReason: k.RevokedReason, CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
		LastUsedAt: timePtr(k.LastUsedAt), UsageCount: k.UsageCount, Signing: signingView(k), DPoPJKT: k.JKT}
	if c := k.Credits; c != nil {
		v.Credits = &api.Credits{Remaining: c.Remaining}
		if c.RefillInterval > 0 {
			v.Credits.Refill = &api.Refill{Amount: c.RefillAmount, Interval: api.Duration(c.RefillInterval)}
		}
	}
	return v
}

// auditKey is what the audit log records of a key: its settings, without
// bookkeeping that changes on every use.
func auditKey(k store.Key) api.Key {
	v := KeyView(k)
	v.LastUsedAt, v.UsageCount, v.UpdatedAt = nil, 0, time.Time{}
	return v
}

func auditAPI(a store.API) api.API {
	v := APIView(a)
	v.UpdatedAt = time.Time{}
	return v
}

func limitsView(ls []store.RateLimit) []api.RateLimit {
	if len(ls) == 0 {
		return nil
	}
	out := make([]api.RateLimit, len(ls))
	for i, l := range ls {
		out[i] = api.RateLimit{Name: l.Name, Limit: l.Limit, Window: api.Duration(l.Window)}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ApprovalView is the wire form of an approval: nil when none was
// needed.
func ApprovalView(a store.Approval) *api.ApprovalState {
	if a.State == "" {
		return nil
	}
	return &api.ApprovalState{State: a.State, Reason: a.Reason, DecidedAt: timePtr(a.DecidedAt)}
}
