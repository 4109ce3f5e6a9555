package oauth

import (
	"context"
	"errors"

	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/store"
)

// DPoP (RFC 9449) at the token endpoint: a proof on any grant binds the
// access token to the proof's key (cnf.jkt, token_type DPoP); a public
// client's refresh token is bound too (§5), and refreshing it needs a
// proof of the same key; a code issued for a dpop_jkt (§10) is redeemed
// only with a proof of that key; a client registered with
// dpop_bound_access_tokens (§5.2) must send a proof with every request.

// TokenRequest is a request to the token endpoint from the
// authenticated client Client, whose address is IP.
type TokenRequest struct {
	Client store.Client
	Form   Form
	IP     string
	// DPoP is the request's one DPoP header (RFC 9449 §4.1), "" for
	// none. The surface refuses a request with several.
	DPoP string
}

// DPoPAlgs returns the proof algorithms the token endpoint accepts.
func (s *Service) DPoPAlgs() []string { return s.dpop.Algs() }

// dpopBinding checks the proof of a token request of client c and
// returns the thumbprint tokens are to be bound to: "" without a proof.
func (s *Service) dpopBinding(ctx context.Context, c store.Client, proof string) (string, error) {
	if proof == "" {
		if c.DPoPBound {
			return "", &Error{Code: dpop.CodeInvalidProof, Status: 400, DPoPNonce: s.dpop.Nonce(),
				Description: "this client must send a DPoP proof with every token request (dpop_bound_access_tokens)"}
		}
		return "", nil
	}
	p, err := s.dpop.Check(ctx, proof, dpop.Request{Method: "POST", URL: s.issuer + TokenPath})
	if e, ok := errors.AsType[*dpop.Error](err); ok {
		return "", &Error{Code: e.Code, Description: e.Description, Status: 400, DPoPNonce: e.Nonce}
	}
	if err != nil {
		return "", err
	}
	return p.JKT, nil
}

// pushedBinding checks the DPoP proof of a pushed authorization request
// (RFC 9449 §10.1) and returns the thumbprint the code is to be bound
// to: the proof's, which must equal dpopJKT when that is sent too; else
// dpopJKT. Without a proof, nothing is checked here.
func (s *Service) pushedBinding(ctx context.Context, dpopJKT, proof string) (string, error) {
	if proof == "" {
		return dpopJKT, nil
	}
	p, err := s.dpop.Check(ctx, proof, dpop.Request{Method: "POST", URL: s.issuer + PARPath})
	if e, ok := errors.AsType[*dpop.Error](err); ok {
		return "", &Error{Code: e.Code, Description: e.Description, Status: 400, DPoPNonce: e.Nonce}
	}
	if err != nil {
		return "", err
	}
	if dpopJKT != "" && dpopJKT != p.JKT {
		return "", &Error{Code: dpop.CodeInvalidProof, Status: 400,
			Description: "dpop_jkt is not the thumbprint of the DPoP proof's key"}
	}
	return p.JKT, nil
}

// userinfoBinding checks that req presents its token as its binding jkt
// ("" for none) wants: a bound token only as "Authorization: DPoP" with
// a proof of its key for this request to the userinfo endpoint (RFC 9449
// §7), an unbound one only as a bearer token.
func (s *Service) userinfoBinding(ctx context.Context, req UserinfoRequest, jkt string) error {
	switch {
	case jkt == "" && !req.DPoP:
		return nil
	case jkt == "":
		return newError(401, ErrInvalidToken, "the access token is not bound to a DPoP key; send it as Authorization: Bearer")
	case !req.DPoP:
		return newError(401, ErrInvalidToken, "the access token is bound to a DPoP key; it cannot be used as a bearer token")
	}
	p, err := s.dpop.Check(ctx, req.Proof, dpop.Request{Method: req.Method, URL: s.issuer + UserinfoPath, AccessToken: req.Token})
	if e, ok := errors.AsType[*dpop.Error](err); ok {
		return &Error{Code: e.Code, Description: e.Description, Status: 401, DPoPNonce: e.Nonce}
	}
	if err != nil {
		return err
	}
	if p.JKT != jkt {
		return newError(401, ErrInvalidToken, "the DPoP proof is made with another key than the access token is bound to")
	}
	return nil
}

// requireKey checks that a grant bound to the key want (a DPoP-bound
// refresh token, a code issued for a dpop_jkt) is used with a proof of
// that key: jkt is the request's, "" without a proof.
func requireKey(want, jkt, what string) error {
	switch {
	case want == "":
		return nil
	case jkt == "":
		return &Error{Code: dpop.CodeInvalidProof, Status: 400, Description: what + " is bound to a DPoP key: send a proof of it"}
	case jkt != want:
		return invalidGrant("%s is bound to another DPoP key", what)
	}
	return nil
}

// Token types of RFC 6749 §7.1 and RFC 9449 §5.
const (
	TokenTypeBearer = "Bearer"
	TokenTypeDPoP   = "DPoP"
)
