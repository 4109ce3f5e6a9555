package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/signer"
)

// JWTConfig enables the verification of RFC 9068 JWT access tokens.
type JWTConfig struct {
	// Signer holds the keys the tokens are signed with. Required.
	Signer *signer.Signer
	// Issuer is the iss every token must carry. Required.
	Issuer string
	// Leeway is the clock skew allowed on exp, nbf and iat; default 30s.
	Leeway time.Duration
}

// jwtVerifier is the engine's state for JWT access tokens.
type jwtVerifier struct {
	signer *signer.Signer
	issuer string
	leeway time.Duration
	// auds maps registered API audiences to API ids; dropped when an API
	// changes, reloaded when stale.
	auds   atomic.Pointer[audiences]
	audsMu sync.Mutex
	// revoked caches IsJTIRevoked answers by jti.
	revokedMu sync.RWMutex
	revoked   map[string]jtiEntry
	// gen counts invalidations, so that a fill that read the store
	// before an invalidation is not stored after it (as in cache).
	gen atomic.Uint64
}

type audiences struct {
	byAud    map[string]string
	loadedAt int64
}

type jtiEntry struct {
	revoked bool
	until   int64 // unix ns
}

// maxJTICache bounds the revoked-jti cache; when full it is emptied.
const maxJTICache = 100_000

func newJWTVerifier(c *JWTConfig) *jwtVerifier {
	if c == nil || c.Signer == nil {
		return nil
	}
	return &jwtVerifier{signer: c.Signer, issuer: c.Issuer, leeway: or(c.Leeway, 30*time.Second),
		revoked: map[string]jtiEntry{}}
}

// verifyJWT answers req for a JWT access token: signature and typ, then
// iss, then aud (a token for another API does not exist for this one),
// then time, revocation and scopes. A failure before the audience matched
// leaves res.Token nil, as for an unknown API key.
func (e *Engine) verifyJWT(ctx context.Context, req *Request, res *Result, now time.Time) error {
	j := e.jwt
	payload, err := j.signer.Verify(req.Token, credential.TypAccessToken)
	if err != nil {
		return nil
	}
	c, err := credential.DecodeAccessClaims(payload)
	if err != nil || c.Issuer != j.issuer {
		return nil
	}
	apiID, err := e.jwtAudience(ctx, c.Audience, req.Audience, now)
	if err != nil || apiID == "" {
		return err
	}
	exp := c.Expiry.Time().UTC()
	scopes := strings.Fields(c.Scope)
	res.Token = &api.TokenInfo{ID: c.ID, Kind: credential.KindJWTAccessToken, APIID: apiID, Subject: c.Subject,
		Scopes: scopes, ExpiresAt: &exp, ClientID: c.ClientID, JKT: c.BoundKey()}
	switch {
	case c.NotBefore != 0 && now.Add(j.leeway).Before(c.NotBefore.Time()),
		now.Add(j.leeway).Before(c.IssuedAt.Time()):
		res.Token = nil // not valid yet: as if it did not exist
		return nil
	case notBound(req, res):
		return nil
	case !now.Add(-j.leeway).Before(exp):
		res.Code = api.CodeExpired
		return nil
	}
	revoked, err := e.jtiRevoked(ctx, c.ID, exp, now)
	if err != nil {
		return err
	}
	switch {
	case revoked:
		res.Code = api.CodeRevoked
	case !hasAll(scopes, req.Scopes):
		res.Code = api.CodeInsufficientScope
	default:
		res.Code = api.CodeValid
	}
	return nil
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// jwtAudience returns the id of the API the token is for: the requested
// audience if the token names it, else the first audience of the token
// that is a registered API; "" if none.
func (e *Engine) jwtAudience(ctx context.Context, tokenAud jwt.Audience, want string, now time.Time) (string, error) {
	if want != "" {
		if !tokenAud.Contains(want) {
			return "", nil
		}
		tokenAud = jwt.Audience{want}
	}
	for _, fresh := range []bool{false, true} {
		auds, err := e.audiences(ctx, now, fresh)
		if err != nil {
			return "", err
		}
		for _, a := range tokenAud {
			if id, ok := auds.byAud[a]; ok {
				return id, nil
			}
		}
	}
	return "", nil
}

// audiences returns the registered audiences, reloading them when older
// than the cache TTL, or when fresh is set and they are older than the
// negative TTL (so that a new API is found quickly, but a flood of tokens
// for unknown audiences costs one query per negative TTL).
func (e *Engine) audiences(ctx context.Context, now time.Time, fresh bool) (*audiences, error) {
	maxAge := e.ttl
	if fresh {
		maxAge = e.negTTL
	}
	if a := e.jwt.auds.Load(); a != nil && now.UnixNano()-a.loadedAt < maxAge {
		return a, nil
	}
	e.jwt.audsMu.Lock()
	defer e.jwt.audsMu.Unlock()
	if a := e.jwt.auds.Load(); a != nil && now.UnixNano()-a.loadedAt < maxAge {
		return a, nil
	}
	gen := e.jwt.gen.Load()
	apis, err := e.db.ListAPIs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load api audiences: %w", err)
	}
	a := &audiences{byAud: make(map[string]string, len(apis)), loadedAt: now.UnixNano()}
	for _, api := range apis {
		// tokend's own API is never a JWT audience: admin and verify
		// credentials are opaque admin keys only, whatever gets signed.
		if api.ID != apikey.SystemAPIID {
			a.byAud[api.Audience] = api.ID
		}
	}
	e.jwt.revokedMu.Lock()
	if e.jwt.gen.Load() == gen {
		e.jwt.auds.Store(a)
	}
	e.jwt.revokedMu.Unlock()
	return a, nil
}

// jtiRevoked reports whether jti is revoked. A revocation is remembered
// until the token expires; a "not revoked" answer for the negative TTL, or
// until a revocation of the jti is announced (onChange).
func (e *Engine) jtiRevoked(ctx context.Context, jti string, exp, now time.Time) (bool, error) {
	j, ns := e.jwt, now.UnixNano()
	j.revokedMu.RLock()
	ent, ok := j.revoked[jti]
	j.revokedMu.RUnlock()
	if ok && ns < ent.until {
		return ent.revoked, nil
	}
	gen := j.gen.Load()
	revoked, err := e.db.IsJTIRevoked(ctx, jti)
	if err != nil {
		return false, fmt.Errorf("look up jti: %w", err)
	}
	ent = jtiEntry{revoked: revoked, until: ns + e.negTTL}
	if revoked {
		ent.until = unixNano(exp.Add(j.leeway))
	}
	j.revokedMu.Lock()
	defer j.revokedMu.Unlock()
	if j.gen.Load() != gen {
		return revoked, nil // an invalidation came in meanwhile
	}
	if len(j.revoked) >= maxJTICache {
		clear(j.revoked)
	}
	j.revoked[jti] = ent
	return revoked, nil
}
