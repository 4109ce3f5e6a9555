package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
)

// proven reports whether req carries a DPoP proof (RFC 9449 §7) of the
// key jkt for its method and URL, with ath the hash of the token. If
// not, res becomes INVALID_DPOP_PROOF or USE_DPOP_NONCE, with no token
// details: whoever holds the token without the key learns nothing of it.
func (e *Engine) proven(ctx context.Context, req *Request, jkt string, res *Result) (bool, error) {
	fail := func(code api.Code, why string) (bool, error) {
		res.Code, res.Token, res.DPoPError = code, nil, why
		return false, nil
	}
	d := req.DPoP
	if d == nil || d.Proof == "" {
		return fail(api.CodeInvalidDPoPProof, "the token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof")
	}
	p, err := e.dpop.Check(ctx, d.Proof, dpop.Request{Method: d.Method, URL: d.URL, AccessToken: req.Token})
	if de, ok := errors.AsType[*dpop.Error](err); ok {
		if de.Code == dpop.CodeUseNonce {
			res.DPoPNonce = de.Nonce
			return fail(api.CodeUseDPoPNonce, de.Description)
		}
		return fail(api.CodeInvalidDPoPProof, de.Description)
	}
	if err != nil {
		return false, fmt.Errorf("check dpop proof: %w", err)
	}
	if p.JKT != jkt {
		return fail(api.CodeInvalidDPoPProof, "the DPoP proof is made with another key than the token is bound to")
	}
	return true, nil
}

// notBound answers DPOP_NOT_BOUND for res.Token, a token that is not
// bound to a DPoP key but came with a proof (req.DPoP, the DPoP scheme):
// before any other check, like a bound token's proof, so that a token
// sent with the wrong scheme spends no rate limit and no credit. The
// token's details stay: a token that is not bound is a bearer token, and
// whoever sent it holds it.
func notBound(req *Request, res *Result) bool {
	if req.DPoP == nil || res.Token.JKT != "" {
		return false
	}
	res.Code = api.CodeDPoPNotBound
	return true
}

// DPoPAlgs returns the proof algorithms the engine accepts, for
// WWW-Authenticate challenges.
func (e *Engine) DPoPAlgs() []string { return e.dpop.Algs() }

// DPoPNonce returns a nonce for a DPoP-Nonce header, "" when nonces are
// off.
func (e *Engine) DPoPNonce() string { return e.dpop.Nonce() }
