package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/store"
)

// prepareSigning sets what the signature check needs on a key's entry:
// the key's signing key, opened once per cache fill, and whether its API
// requires signed requests. A sealed secret that does not open is an
// error: tokend cannot decide, rather than refusing every request.
func (e *Engine) prepareSigning(ent *entry, r store.VerifyRecord) error {
	ent.requireSigned = r.RequireSigned
	k, ok, err := apikey.SigningKey(e.kek, r.Key)
	if err != nil {
		return err
	}
	if ok {
		ent.signing = &k
	}
	return nil
}

// checkSignature checks the RFC 9421 signature of the request a token came
// with (DESIGN §3: after the checks that spend nothing, before rate limits
// and credits, since it claims a nonce). A key without a signing key whose
// API does not require signing is not checked; a key with one is checked
// whenever the request carries a signature; an unsigned request passes
// only where the API does not require signing. The error is non-nil only
// when the nonce store could not decide.
func (e *Engine) checkSignature(ctx context.Context, ent *entry, req *Request, res *Result) error {
	if ent.signing == nil && !ent.requireSigned {
		return nil
	}
	res.SignatureChecked = true
	refuse := func(code api.Code, problem string) error {
		res.Code, res.Problem = code, problem
		return nil
	}
	if req.Signed == nil {
		if ent.requireSigned {
			return refuse(api.CodeSignatureRequired, "the API requires signed requests, and no request was given to check")
		}
		return nil
	}
	sig, err := httpsig.Parse(req.Signed)
	if he, ok := errors.AsType[*httpsig.Error](err); ok {
		switch {
		case he.Reason == httpsig.ReasonMissing && ent.requireSigned:
			return refuse(api.CodeSignatureRequired, "the API requires signed requests: "+he.Msg)
		case he.Reason == httpsig.ReasonMissing:
			return nil
		}
		return refuse(api.CodeSignatureInvalid, he.Msg)
	}
	if ent.signing == nil {
		return refuse(api.CodeSignatureRequired, "the API requires signed requests, and the key has no signing key")
	}
	err = e.sigs.Verify(ctx, req.Signed, sig, ent.signing)
	if he, ok := errors.AsType[*httpsig.Error](err); ok {
		return refuse(api.CodeSignatureInvalid, he.Msg)
	}
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return nil
}
