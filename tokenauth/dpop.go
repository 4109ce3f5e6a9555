package tokenauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tokend/tokend/dpop"
)

// DPoP (RFC 9449): a token bound to a key (a JWT's cnf.jkt, an API key
// or access token tokend bound) is good only as "Authorization: DPoP
// <token>" with a DPoP header holding a fresh proof of that key for this
// request. A JWT's proof is checked here; an opaque token's is relayed
// to /v1/verify with the request's method and URL.

// The RFC 9449 §7.1 and §9 error codes, in the DPoP challenge.
const (
	// ErrInvalidDPoPProof (401): the DPoP proof is missing, malformed,
	// for another method or URL, stale, replayed, of another token (ath)
	// or of another key than the token is bound to.
	ErrInvalidDPoPProof = dpop.CodeInvalidProof
	// ErrUseDPoPNonce (401): the proof lacks the server nonce, or holds a
	// stale one; the answer's DPoP-Nonce header has the one to use.
	ErrUseDPoPNonce = dpop.CodeUseNonce
)

// newChecker builds the DPoP proof checker of cfg.
func newChecker(cfg Config) *dpop.Checker {
	c := dpop.Config{Replay: cfg.DPoPReplay, Now: cfg.Now}
	if len(cfg.DPoPNonceSecret) > 0 {
		c.Nonces = dpop.NewNonces(cfg.DPoPNonceSecret, 0, cfg.Now)
	}
	return dpop.New(c)
}

// checkBinding checks that the way c presents a JWT suits its binding
// jkt ("" for none): a bound token only with a proof of its key for this
// request, an unbound one only as a bearer token.
func (a *Auth) checkBinding(r *http.Request, c presented, jkt string) *Error {
	switch {
	case jkt == "" && !c.dpop:
		return nil
	case jkt == "":
		return notBound()
	case !c.dpop:
		return boundAsBearer()
	}
	p, err := a.dpop.Check(r.Context(), c.proof, dpop.Request{Method: r.Method, URL: a.htu(r), AccessToken: c.token})
	if de, ok := errors.AsType[*dpop.Error](err); ok {
		if de.Code == dpop.CodeUseNonce {
			return useNonce(de.Description, de.Nonce)
		}
		return invalidProof(de.Description)
	}
	if err != nil {
		return unavailable(err) // the replay cache cannot be asked: fail closed
	}
	if p.JKT != jkt {
		return &Error{Status: http.StatusUnauthorized, Code: ErrInvalidToken, DPoP: true,
			Description: "the DPoP proof is made with another key than the token is bound to"}
	}
	return nil
}

// htu is the URL the client addressed r to, which a proof's htu must
// name: Config.PublicURL and the path, or Config.TargetURI. Query and
// fragment do not count (RFC 9449 §4.3).
func (a *Auth) htu(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/") + r.URL.EscapedPath()
	}
	return a.cfg.TargetURI(r)
}

// DPoPAlgs returns the proof algorithms accepted here, which the DPoP
// challenge and the metadata name.
func (a *Auth) DPoPAlgs() []string { return a.dpop.Algs() }

func invalidProof(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: ErrInvalidDPoPProof, Description: desc, DPoP: true}
}

func useNonce(desc, nonce string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: ErrUseDPoPNonce, DPoP: true, DPoPNonce: nonce,
		Description: or(desc, "the resource server requires a DPoP nonce; use the one in DPoP-Nonce")}
}

// boundAsBearer refuses a DPoP-bound token sent as a bearer token (RFC
// 9449 §7.2): whoever stole it cannot use it without the key.
func boundAsBearer() *Error {
	return invalidToken("the token is bound to a DPoP key; it cannot be used as a bearer token")
}

// notBound refuses a bearer token sent with the DPoP scheme: there is
// no key to check the proof against.
func notBound() *Error {
	e := invalidToken("the token is not bound to a DPoP key; send it as Authorization: Bearer")
	e.DPoP = true
	return e
}
