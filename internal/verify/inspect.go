package verify

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
)

// Inspect answers req as Verify does, but spends nothing, for
// introspection: a third party asking about a token must not use up what
// belongs to the token's holder. Rate limits are neither taken nor
// consulted, no credit is consumed and no use is recorded; req.Cost is
// ignored. A key with credits must have at least one left, or it is
// USAGE_EXCEEDED.
func (e *Engine) Inspect(ctx context.Context, req *Request, res *Result) error {
	res.Code, res.Token, res.HasCredits, res.Credits = api.CodeNotFound, nil, false, 0
	res.RateLimits = res.RateLimits[:0]
	now := e.now()
	if e.jwt != nil && credential.LooksLikeJWT(req.Token) {
		return e.verifyJWT(ctx, req, res, now)
	}
	prefix, ok := credential.Parse(req.Token)
	if !ok || prefix == credential.RefreshTokenPrefix {
		return nil
	}
	ent, err := e.lookup(ctx, credential.Hash(req.Token), prefix, now.UnixNano())
	if err != nil || !ent.found {
		return err
	}
	if req.Audience != "" && req.Audience != ent.audience {
		return nil
	}
	res.Token = &ent.info
	res.Code = e.check(ent, req, now.UnixNano())
	if res.Code != api.CodeValid || !ent.hasCredits {
		return nil
	}
	// A cost of 0 applies a refill that is due and reads the balance.
	if err := e.consume(ctx, ent, 0, now, res); err != nil {
		return err
	}
	if res.Code == api.CodeValid && res.Credits < 1 {
		res.Code = api.CodeUsageExceeded
	}
	return nil
}
