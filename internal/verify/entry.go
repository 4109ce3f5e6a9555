package verify

import (
	"math"
	"net/netip"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

// entry is everything verification needs about one secret, prepared once
// per cache fill so that a cached verification parses and allocates
// nothing. Entries are immutable after newEntry; answers share them.
type entry struct {
	found       bool
	keyID       string
	audience    string
	enabled     bool
	revoked     bool
	pending     bool      // awaits an administrator's approval
	expiresAt   int64     // unix ns (saturated, see unixNano) of the key's or the secret's expiry, whichever is first; 0: never
	issuedAt    time.Time // when the secret was issued: a key's creation or its latest rotation, an opaque access token's issue
	cidrs       []netip.Prefix
	scopes      []string
	limits      []ratelimit.Limit
	hasCredits  bool
	info        api.TokenInfo
	cachedUntil int64
	// signing is the key's request-signing key (nil: none), and
	// requireSigned its API's policy; see checkSignature.
	signing       *httpsig.Key
	requireSigned bool
}

func notFoundEntry(until int64) *entry { return &entry{cachedUntil: until} }

func newEntry(r store.VerifyRecord, until int64) *entry {
	k := r.Key
	e := &entry{
		found:    true,
		keyID:    k.ID,
		audience: r.Audience,
		enabled:  k.Enabled,
		// A denied token is revoked with it; a denial is final even so.
		revoked:     !k.RevokedAt.IsZero() || k.Approval.State == store.ApprovalDenied,
		pending:     k.Approval.State == store.ApprovalPending,
		scopes:      k.Scopes,
		hasCredits:  k.Credits != nil,
		issuedAt:    r.Secret.CreatedAt,
		cachedUntil: until,
	}
	for _, c := range k.AllowedCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			e.cidrs = append(e.cidrs, p.Masked())
		}
	}
	for _, l := range k.RateLimits {
		e.limits = append(e.limits, ratelimit.Limit{Name: l.Name, Limit: l.Limit, Window: l.Window})
	}
	e.info = api.TokenInfo{ID: k.ID, Kind: credential.KindAPIKey, APIID: k.APIID, Subject: k.Subject,
		Name: k.Name, Scopes: k.Scopes, Metadata: k.Metadata, JKT: k.JKT}
	if k.UserID != "" {
		e.info.Kind, e.info.Subject = credential.KindPersonalToken, k.UserID
		e.enabled = e.enabled && ownerStands(r)
	}
	if exp := earliest(k.ExpiresAt, r.Secret.ExpiresAt); !exp.IsZero() {
		e.expiresAt = unixNano(exp)
		t := exp.UTC()
		e.info.ExpiresAt = &t
	}
	return e
}

// ownerStands reports whether the owner of a personal access token may
// still hold it: the owner exists, is enabled, and their groups still
// grant every scope of the token under the API's current policy. A token
// whose owner does not stand is DISABLED, whatever scopes a request asks
// for. The answer is cached with the entry; the store announces the
// token's secrets whenever its owner or its API changes.
func ownerStands(r store.VerifyRecord) bool {
	o := r.Owner
	return o != nil && o.Enabled && apikey.MayHold(r.Policy, o.Groups, r.Key.Scopes)
}

// earliest returns the earlier of two expiries, where zero means never.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// Bounds of the times int64 nanoseconds can hold (1677 to 2262).
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// unixNano is t in unix nanoseconds for comparisons, saturated instead of
// wrapped: an expiry in 9999 becomes the largest int64, which no clock
// before 2262 reaches. Never 0, which means "no expiry".
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxNanoTime):
		return math.MaxInt64
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.UnixNano() == 0:
		return -1
	}
	return t.UnixNano()
}

// allows reports whether ip (already parsed; invalid when absent) is inside
// the allowlist. An empty allowlist allows every address.
func (e *entry) allows(ip netip.Addr) bool {
	if len(e.cidrs) == 0 {
		return true
	}
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, p := range e.cidrs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// hasScopes reports whether the key holds every scope in want.
func (e *entry) hasScopes(want []string) bool {
	for _, w := range want {
		if !contains(e.scopes, w) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
