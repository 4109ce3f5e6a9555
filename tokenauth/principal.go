package tokenauth

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
)

// The kinds of token a Principal can hold, as tokend names them.
const (
	// KindAPIKey is an API key.
	KindAPIKey = "api_key"
	// KindAccessToken is an opaque OAuth access token.
	KindAccessToken = "access_token"
	// KindJWTAccessToken is an RFC 9068 JWT access token.
	KindJWTAccessToken = "jwt_access_token"
	// KindPersonalToken is a personal access token.
	KindPersonalToken = "personal_access_token"
)

// Principal is who made a request, as its verified token says. The
// middleware puts it in the request's context; read it with FromContext.
// A Principal may be shared by concurrent requests: treat it, its slices
// and its Metadata as read-only.
type Principal struct {
	// Subject is the token's subject: the API key's subject, or the
	// OAuth client for a client_credentials token.
	Subject string
	// TokenID identifies the token: the key id (key_…) or the jti. It is
	// not secret; log it instead of the token.
	TokenID string
	// Kind is one of the Kind constants.
	Kind string
	// Scopes are every scope the token holds, not only those required.
	Scopes []string
	// ClientID is the OAuth client an access token was issued to.
	ClientID string
	// APIID is the tokend API the token belongs to. It is empty for a
	// JWT verified locally, which names its API by audience only.
	APIID string
	// Name is an API key's name, if it has one.
	Name string
	// ExpiresAt is when the token expires; zero if it does not.
	ExpiresAt time.Time
	// Metadata is an API key's metadata, as stored in tokend.
	Metadata json.RawMessage
	// RateLimits are the key's named limits after this request, when it
	// has any; the middleware has already written them as headers.
	RateLimits []api.RateLimitState
	// Credits is the key's balance after this request, when it has
	// credits.
	Credits *api.CreditState
}

// HasScope reports whether p holds scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// hasAll reports whether p holds every scope of want.
func (p *Principal) hasAll(want []string) bool {
	for _, s := range want {
		if !p.HasScope(s) {
			return false
		}
	}
	return true
}

type principalKey struct{}

// NewContext returns a copy of ctx holding p, as the middleware does.
// Tests of handlers use it to call them without a token.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the middleware put in ctx. ok is
// false outside a Require'd handler, and under InsecureFailOpen when
// tokend could not be asked.
func FromContext(ctx context.Context) (p *Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// principalOf builds the principal of a /v1/verify answer.
func principalOf(res *api.VerifyResponse) *Principal {
	t := res.Token
	p := &Principal{Subject: t.Subject, TokenID: t.ID, Kind: t.Kind, Scopes: t.Scopes, ClientID: t.ClientID,
		APIID: t.APIID, Name: t.Name, Metadata: t.Metadata, RateLimits: res.RateLimits, Credits: res.Credits}
	if t.ExpiresAt != nil {
		p.ExpiresAt = *t.ExpiresAt
	}
	return p
}
