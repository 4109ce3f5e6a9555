package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/tokenauth"
)

// Forward-auth (/v1/authz): a proxy in front of an API (nginx
// auth_request, Traefik forwardAuth, Envoy ext_authz in HTTP mode) asks
// whether the request it holds may go on. The proxy authenticates with a
// verify key in Tokend-Verify-Key; the client's own token stays in
// Authorization. The original request is named by X-Forwarded-Method,
// X-Forwarded-Uri and X-Forwarded-Host (Traefik), X-Original-Method and
// X-Original-URI (nginx), or, for Envoy, by the check request's own
// method and its path below /v1/authz. Every source present must agree.
//
// A DPoP-bound token (RFC 9449) comes as "Authorization: DPoP <token>"
// with the client's DPoP header, which the proxy passes on; its proof is
// checked against the original method and URL: X-Forwarded-Proto
// (default https), the original host and path.

// envoyPrefix is the path_prefix Envoy puts before the original path.
const envoyPrefix = "/v1/authz/"

// origin is the request the proxy asks about.
type origin struct {
	method, host, path, rawQuery string
	envoy                        bool // named by the check request's own path
}

// rule is what the request needs: a token of audience with every scope.
type rule struct {
	audience string
	scopes   []string
}

// proxyCaller is the principal middleware of /v1/authz: the proxy's key
// is in Tokend-Verify-Key, since Authorization carries the client's token.
func (s *Server) proxyCaller(next callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := proxyKey(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.authenticate(r, key, verifiers)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		next.serveCaller(w, r, p)
	})
}

// proxyKey is the key of Tokend-Verify-Key. No header is no credential,
// a bare challenge; the header without a value (spaces alone: the server
// drops them) is a malformed credential, not the absence of one, refused
// as "Authorization: Bearer" without a token is, error="invalid_token".
// Two headers are refused 400 before either is read, as two
// Authorization headers are (refuseTokensInURL): proxies and servers may
// pick different ones of two, so tokend picks none.
func proxyKey(r *http.Request) (string, error) {
	keys := r.Header.Values(api.HeaderVerifyKey)
	switch {
	case len(keys) > 1:
		return "", errTwoVerifyKeys
	case len(keys) == 0:
		return "", &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"send one verify key as " + api.HeaderVerifyKey + ": <key>", bareChallenge}
	case strings.TrimSpace(keys[0]) == "":
		return "", errEmptyVerifyKey
	}
	return keys[0], nil
}

// errTwoVerifyKeys refuses more than one Tokend-Verify-Key header.
var errTwoVerifyKeys = &authError{http.StatusBadRequest, api.ErrBadRequest,
	"send one " + api.HeaderVerifyKey + " header", `Bearer realm="tokend", error="invalid_request"`}

// errEmptyVerifyKey refuses a Tokend-Verify-Key header without a key.
var errEmptyVerifyKey = &authError{http.StatusUnauthorized, api.ErrUnauthorized,
	"the " + api.HeaderVerifyKey + " header holds no key; send one verify key as " + api.HeaderVerifyKey + ": <key>",
	`Bearer realm="tokend", error="invalid_token"`}

// authzHandler answers /v1/authz: 200 with the identity headers, or
// 400, 401, 403 or 429 with a problem document, RFC 6750 challenge and
// rate-limit headers.
type authzHandler struct{ s *Server }

func (h authzHandler) serveCaller(w http.ResponseWriter, r *http.Request, _ principal) {
	s := h.s
	o, err := originOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rl, err := s.authzRule(r, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := clientToken(r, o)
	if err != nil {
		s.fail(w, r, s.dpopChallenges(err, c, ""))
		return
	}
	var buf [4]ratelimit.State
	res := verify.Result{RateLimits: buf[:0]}
	req := verify.Request{Token: c.token, Audience: rl.audience, Scopes: rl.scopes, ClientIP: s.clientIP(r), Cost: 1,
		Signed: signedOrigin(r, o)}
	if c.dpop {
		req.DPoP = &api.VerifyDPoP{Proof: c.proof, Method: o.method, URL: originBase(r, o) + o.path}
	}
	if err := s.engine.Verify(r.Context(), &req, &res); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	limits := writeRateLimits(w.Header(), res.RateLimits, now)
	if res.Code != api.CodeValid {
		if secs, ok := tokenauth.RetryAfter(limits, now); ok && res.Code == api.CodeRateLimited {
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		s.fail(w, r, s.dpopChallenges(denial(res, c, rl.scopes), c, res.DPoPNonce))
		return
	}
	setIdentity(w.Header(), res.Token)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// originOf reads the original request from the proxy's headers.
func originOf(r *http.Request) (origin, error) {
	var o origin
	uris := append(r.Header.Values("X-Forwarded-Uri"), r.Header.Values("X-Original-Uri")...)
	methods := append(r.Header.Values("X-Forwarded-Method"), r.Header.Values("X-Original-Method")...)
	if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), envoyPrefix); ok {
		o.envoy = true
		u := "/" + rest
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		uris, methods = append(uris, u), append(methods, r.Method)
	}
	uri, err := agreed("URI", uris)
	if err != nil {
		return o, err
	}
	if o.method, err = agreed("method", methods); err != nil {
		return o, err
	}
	hosts := r.Header.Values("X-Forwarded-Host")
	if len(hosts) > 1 {
		return o, badInput("the original host is named more than once (X-Forwarded-Host)")
	}
	o.host = r.Host
	if len(hosts) == 1 {
		o.host = hosts[0]
	}
	escaped, query, _ := strings.Cut(uri, "?")
	if o.path, err = routetable.ExactPath(escaped); err != nil {
		return o, badInput(err.Error())
	}
	o.rawQuery = query
	return o, nil
}

// agreed returns the one value every source gives, or an error when
// there is none or they differ (a client may have sent one of them).
func agreed(what string, values []string) (string, error) {
	if len(values) == 0 {
		return "", badInput("the proxy did not name the original " + what +
			" (X-Forwarded-Uri and X-Forwarded-Method, X-Original-URI and X-Original-Method, or Envoy's path below /v1/authz/)")
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return "", badInput("the original " + what + " is named differently by two headers")
		}
	}
	if values[0] == "" {
		return "", badInput("the original " + what + " is empty")
	}
	return values[0], nil
}

// authzRule finds what the original request needs: the requirements on
// the auth URL (GET /v1/authz?audience=A&scope=S), else the route table
// (serve --authz-routes). For Envoy the query is the original request's,
// so only the route table counts. No route: 403 (default deny).
func (s *Server) authzRule(r *http.Request, o origin) (rule, error) {
	if !o.envoy && r.URL.RawQuery != "" {
		return urlRule(r.URL.RawQuery)
	}
	t := s.authzRoutes.Load()
	if t == nil {
		return rule{}, badInput("no requirements: put them on the URL (/v1/authz?audience=AUD&scope=S) or start tokend with --authz-routes")
	}
	rt := t.Match(o.host, o.method, o.path)
	if rt == nil {
		return rule{}, &authError{http.StatusForbidden, api.ErrNoRoute,
			"no route of the route table covers " + o.method + " " + o.path + "; unmatched requests are denied", ""}
	}
	return rule{rt.Audience, rt.Scopes}, nil
}

// urlRule parses the requirements of an auth URL: one audience, any
// number of scopes, nothing else.
func urlRule(rawQuery string) (rule, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return rule{}, badInput("the query of /v1/authz does not parse")
	}
	for name := range q {
		if name != "audience" && name != "scope" {
			return rule{}, badInput("unknown parameter " + name + " on /v1/authz; it takes audience and scope")
		}
	}
	if len(q["audience"]) != 1 || q.Get("audience") == "" {
		return rule{}, badInput("/v1/authz needs exactly one audience parameter")
	}
	for _, sc := range q["scope"] {
		if sc == "" || strings.ContainsAny(sc, " \"\\") {
			return rule{}, badInput("a scope parameter of /v1/authz is empty or has a space, quote or backslash")
		}
	}
	return rule{q.Get("audience"), q["scope"]}, nil
}

// presented is the client's credential: its token, and with the DPoP
// scheme (RFC 9449 §7.1) its one DPoP proof.
type presented struct {
	token, proof string
	dpop         bool
}

// clientToken is the client's token: one Authorization header, Bearer
// or DPoP (then with one DPoP header), and no token in the original
// query string.
func clientToken(r *http.Request, o origin) (presented, error) {
	var c presented
	if o.rawQuery != "" && hasToken(o.rawQuery) {
		return c, &authError{http.StatusBadRequest, api.ErrTokenInURL,
			"credentials must not be sent in a URL; send them in the Authorization header", `Bearer realm="tokend", error="invalid_request"`}
	}
	if len(r.Header[keyAuthorization]) > 1 {
		return c, &authError{http.StatusBadRequest, api.ErrBadRequest,
			"send one Authorization header", `Bearer realm="tokend", error="invalid_request"`}
	}
	var ok bool
	if c.token, ok = bearer(r); ok {
		if c.token == "" {
			return c, errEmptyBearer
		}
		return c, nil
	}
	if c.token, ok = dpopToken(r); !ok {
		return c, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"send a token as Authorization: Bearer <token>, or a DPoP-bound one as Authorization: DPoP <token> with a DPoP proof",
			bareChallenge}
	}
	c.dpop = true
	if c.token == "" {
		return c, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"the Authorization header names the DPoP scheme but holds no token", `DPoP realm="tokend", error="invalid_token"`}
	}
	proofs := r.Header[keyDPoP]
	if len(proofs) != 1 || proofs[0] == "" {
		return c, &authError{http.StatusUnauthorized, api.ErrInvalidDPoPProof,
			"Authorization: DPoP needs one DPoP proof in one DPoP header", `DPoP realm="tokend", error="invalid_dpop_proof"`}
	}
	c.proof = proofs[0]
	return c, nil
}

// denial is the answer to a verification res of the credential c that
// failed, as tokenauth answers it: an address not allowed is 401 like
// any unusable token; a bound token without a proof is refused as
// invalid_token, a bad proof as invalid_dpop_proof (RFC 9449 §7.1).
func denial(res verify.Result, c presented, scopes []string) error {
	switch res.Code {
	case api.CodeSignatureRequired, api.CodeSignatureInvalid:
		return &authError{http.StatusUnauthorized, api.ErrInvalidSignature, "signature: " + res.Problem,
			`Bearer realm="tokend", error="invalid_signature"`}
	case api.CodeInsufficientScope:
		return &authError{http.StatusForbidden, api.ErrInsufficientScope, "the token lacks a scope this request needs",
			`Bearer realm="tokend", error="insufficient_scope", scope="` + strings.Join(scopes, " ") + `"`}
	case api.CodeRateLimited:
		return &limitError{"a rate limit of the token is exhausted"}
	case api.CodeUsageExceeded:
		return &limitError{"the token has no credits left"}
	case api.CodeInvalidDPoPProof:
		if !c.dpop {
			return &authError{http.StatusUnauthorized, api.ErrUnauthorized,
				"the token is bound to a DPoP key; it cannot be used as a bearer token: send Authorization: DPoP with a DPoP proof",
				`Bearer realm="tokend", error="invalid_token"`}
		}
		return &authError{http.StatusUnauthorized, api.ErrInvalidDPoPProof, "dpop: " + res.DPoPError,
			`DPoP realm="tokend", error="invalid_dpop_proof"`}
	case api.CodeUseDPoPNonce:
		return &authError{http.StatusUnauthorized, api.ErrUseDPoPNonce, "dpop: " + res.DPoPError,
			`DPoP realm="tokend", error="use_dpop_nonce"`}
	case api.CodeDPoPNotBound:
		return &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"the token is not bound to a DPoP key; send it as Authorization: Bearer", `DPoP realm="tokend", error="invalid_token"`}
	}
	return &authError{http.StatusUnauthorized, api.ErrUnauthorized, "the token is not valid here (" + strings.ToLower(string(res.Code)) + ")",
		`Bearer realm="tokend", error="invalid_token"`}
}

// challenged is a refusal of /v1/authz with every WWW-Authenticate
// challenge it carries, and the DPoP-Nonce to send, if any.
type challenged struct {
	*authError
	challenges []string
	nonce      string
}

func (e *challenged) Unwrap() error { return e.authError }

// dpopChallenges puts the DPoP challenge (RFC 9449 §7.1, with the
// accepted algs) beside the Bearer one of a refusal err of the
// credential c: the challenge of the scheme the client used, or of the
// scheme the error is about, comes first and names the error; the other
// is bare. nonce, if any, goes in DPoP-Nonce. Errors without a challenge
// are left as they are.
func (s *Server) dpopChallenges(err error, c presented, nonce string) error {
	ae, ok := errors.AsType[*authError](err)
	if !ok || ae.challenge == "" {
		return err
	}
	algs := `, algs="` + strings.Join(s.engine.DPoPAlgs(), " ") + `"`
	const bare = `realm="tokend"`
	params, aboutDPoP := strings.CutPrefix(ae.challenge, "DPoP ")
	if !aboutDPoP {
		params = strings.TrimPrefix(ae.challenge, "Bearer ")
	}
	if aboutDPoP || c.dpop {
		return &challenged{ae, []string{"DPoP " + params + algs, "Bearer " + bare}, nonce}
	}
	return &challenged{ae, []string{"Bearer " + params, "DPoP " + bare + algs}, nonce}
}

func badInput(msg string) error {
	return &badRequest{status: http.StatusBadRequest, code: api.ErrBadRequest, msg: msg}
}

// signedOrigin is the original request as RFC 9421 signatures cover it,
// from the proxy's headers: the original method, the target URI made of
// X-Forwarded-Proto (default https), the original host and URI, and the
// client's header fields, which the proxy passes on. The proxy sends no
// body, so the body counts as present when Content-Digest, Content-Length
// or Transfer-Encoding says so: the signature must then cover
// content-digest, and the upstream must check the body against it.
func signedOrigin(r *http.Request, o origin) *httpsig.Message {
	uri := originBase(r, o) + o.path
	if o.rawQuery != "" {
		uri += "?" + o.rawQuery
	}
	n, _ := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
	hasBody := r.Header.Get("Content-Digest") != "" || n > 0 || r.Header.Get("Transfer-Encoding") != ""
	return &httpsig.Message{Method: o.method, TargetURI: uri, Header: r.Header, HasBody: hasBody}
}

// originBase is scheme://host of the original request: X-Forwarded-Proto
// (default https) and the original host, as the client addressed it.
func originBase(r *http.Request, o origin) string {
	scheme := "https"
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + o.host
}
