package tokenauth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
)

// Requirement is what a route asks of a token.
type Requirement struct {
	// Audience the token must belong to; default Config.Audience. Set it
	// for a route of another API served by the same process.
	Audience string
	// Scopes the token must all hold.
	Scopes []string
}

// Require returns middleware that lets a request through only with a
// valid bearer token of Config.Audience holding every one of scopes, and
// puts its Principal in the request's context. It refuses the others
// with the answers listed in the package documentation.
func (a *Auth) Require(scopes ...string) func(http.Handler) http.Handler {
	return a.RequireWith(Requirement{Scopes: scopes})
}

// RequireWith is Require with a whole Requirement, for a route whose
// audience is not Config.Audience.
func (a *Auth) RequireWith(req Requirement) func(http.Handler) http.Handler {
	req.Scopes = slices.Clone(req.Scopes)
	a.noteScopes(req.Scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, e := a.check(r, req)
			if e != nil {
				a.refuse(w, r, next, e)
				return
			}
			if len(p.RateLimits) > 0 {
				WriteRateLimitHeaders(w.Header(), p.RateLimits, a.now())
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}

// refuse answers e, or under InsecureFailOpen lets a request whose token
// could not be verified through to next without a principal.
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, next http.Handler, e *Error) {
	if e.Status == http.StatusServiceUnavailable {
		a.log.ErrorContext(r.Context(), "tokenauth: cannot verify a token", "err", e.Err,
			"fail_open", a.cfg.FailurePolicy == InsecureFailOpen)
		if a.cfg.FailurePolicy == InsecureFailOpen {
			next.ServeHTTP(w, r)
			return
		}
	}
	a.WriteError(w, e)
}

// Check verifies the bearer token of r against req, as the middleware
// does, and returns its principal. On refusal the error is an *Error, to
// be answered with WriteError. It writes nothing, and ignores
// FailurePolicy: tokend being unreachable is an *Error with status 503.
func (a *Auth) Check(r *http.Request, req Requirement) (*Principal, error) {
	p, e := a.check(r, req)
	if e != nil {
		return nil, e
	}
	return p, nil
}

func (a *Auth) check(r *http.Request, req Requirement) (*Principal, *Error) {
	c, e := presentedOf(r)
	if e == nil {
		var p *Principal
		p, e = a.checkToken(r, c, req)
		if e == nil && !p.hasAll(req.Scopes) {
			e = &Error{Status: http.StatusForbidden, Code: ErrInsufficientScope,
				Description: "the token lacks a required scope"}
		}
		if e == nil {
			return p, nil
		}
	}
	e.Scopes = req.Scopes
	e.DPoP = e.DPoP || c.dpop
	return nil, e
}

// checkToken verifies the token c presents: a JWT here, an opaque one
// at /v1/verify; with a DPoP proof when the token is bound to a key.
func (a *Auth) checkToken(r *http.Request, c presented, req Requirement) (*Principal, *Error) {
	audience := or(req.Audience, a.cfg.Audience)
	if looksLikeJWT(c.token) {
		p, jkt, e := a.checkJWT(r.Context(), c.token, audience)
		if e != nil {
			return nil, e
		}
		if e := a.checkBinding(r, c, jkt); e != nil {
			return nil, e
		}
		if a.cfg.RevocationCheckInterval > 0 {
			if e := a.revoked.check(a, p.TokenID, a.revocationQuestion(r.Context(), c.token, audience, jkt)); e != nil {
				return nil, e
			}
		}
		return p, nil
	}
	sr, e := a.signedRequest(r)
	if e != nil {
		return nil, e
	}
	q := opaqueQuery{token: c.token, audience: audience, scopes: req.Scopes, clientIP: a.cfg.ClientIP(r), signed: sr}
	if c.dpop {
		q.dpop = &api.VerifyDPoP{Proof: c.proof, Method: r.Method, URL: a.htu(r)}
	}
	return a.checkOpaque(r.Context(), q)
}

// presented is what a request's Authorization header presents: a token,
// as a bearer token or (dpop) as a DPoP-bound one with the request's one
// DPoP proof.
type presented struct {
	token string
	dpop  bool
	proof string
}

// presentedOf reads the token of the request's one "Authorization:
// Bearer" (RFC 6750 §2.1) or "Authorization: DPoP" (RFC 9449 §7.1)
// header, and with DPoP its one DPoP proof. A token in the query string
// is refused even when the header is right (RFC 6750 §2.3 is not
// supported: URLs end up in logs and browser history), and so is a second
// Authorization header, which proxies and servers might resolve
// differently.
func presentedOf(r *http.Request) (presented, *Error) {
	var c presented
	if r.URL.RawQuery != "" && tokenInQuery(r.URL.RawQuery) {
		return c, invalidRequest("tokens are not accepted in the query string; send them in the Authorization header")
	}
	vals := r.Header["Authorization"]
	switch {
	case len(vals) > 1:
		return c, invalidRequest("more than one Authorization header")
	case len(vals) == 0:
		return c, &Error{Status: http.StatusUnauthorized, Description: "a bearer token is required"}
	}
	scheme, token, _ := strings.Cut(vals[0], " ")
	c.dpop = strings.EqualFold(scheme, "DPoP")
	if !c.dpop && !strings.EqualFold(scheme, "Bearer") {
		return c, &Error{Status: http.StatusUnauthorized, Description: "a bearer token is required"}
	}
	c.token = strings.Trim(token, " ")
	if c.token == "" || !isB64Token(c.token) {
		return c, invalidToken("the " + strings.ToLower(scheme) + " token is malformed")
	}
	if c.dpop {
		proofs := r.Header["Dpop"]
		switch {
		case len(proofs) == 0 || proofs[0] == "":
			return c, invalidProof("Authorization: DPoP needs a DPoP proof in the DPoP header")
		case len(proofs) > 1:
			return c, invalidProof("send one DPoP header, not several")
		}
		c.proof = proofs[0]
	}
	return c, nil
}

// isB64Token reports whether s matches RFC 6750 §2.1's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	end := len(strings.TrimRight(s, "="))
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		if !b64tokenChar[s[i]] {
			return false
		}
	}
	return true
}

// b64tokenChar holds the characters of a b64token before its padding:
// one table lookup per character, on every request.
var b64tokenChar = func() (t [256]bool) {
	for _, r := range [...][2]byte{{'a', 'z'}, {'A', 'Z'}, {'0', '9'}} {
		for c := r[0]; c <= r[1]; c++ {
			t[c] = true
		}
	}
	for _, c := range []byte("-._~+/") {
		t[c] = true
	}
	return t
}()

// tokenInQuery reports whether a query string carries a credential: a
// parameter named access_token (RFC 6750 §2.3, any case) or any value
// shaped like a tokend token. An unparseable query is judged by the
// parameters that parse.
func tokenInQuery(raw string) bool {
	q, _ := url.ParseQuery(raw)
	for name, vals := range q {
		if strings.EqualFold(name, "access_token") {
			return true
		}
		for _, v := range vals {
			if wellFormed(v) {
				return true
			}
		}
	}
	return false
}

// noteScopes adds scopes to the scopes_supported of the metadata.
func (a *Auth) noteScopes(scopes []string) {
	a.scopesMu.Lock()
	defer a.scopesMu.Unlock()
	for _, s := range scopes {
		if !slices.Contains(a.scopes, s) {
			a.scopes = append(a.scopes, s)
		}
	}
}
