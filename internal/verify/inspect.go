package verify

import (
	"context"

	"github.com/tokend/tokend/api"
)

// Inspect answers req as Verify does, but spends nothing, for
// introspection: a third party asking about a token must not use up what
// belongs to the token's holder. Rate limits are neither taken nor
// consulted, no credit is consumed and no use is recorded; req.Cost is
// ignored. A key with credits must have at least one left, or it is
// USAGE_EXCEEDED.
func (e *Engine) Inspect(ctx context.Context, req *Request, res *Result) error {
	res.reset()
	now := e.now()
	ent, err := e.resolve(ctx, req, res, now)
	if ent == nil || err != nil || !ent.hasCredits {
		return err
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
