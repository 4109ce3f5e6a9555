package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// CodeTTL is how long an authorization code may be redeemed (RFC 6749
// §4.1.2 recommends at most ten minutes).
const CodeTTL = time.Minute

// Prompt values of OIDC Core §3.1.2.1.
const (
	PromptNone    = "none"
	PromptLogin   = "login"
	PromptConsent = "consent"
)

// The authorization errors of RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6
// that are not token-endpoint errors too.
const (
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrLoginRequired           = "login_required"
	ErrConsentRequired         = "consent_required"
	ErrInvalidRequestURI       = "invalid_request_uri" // RFC 9126 §2.2
)

// Authorization is an authorization request (RFC 6749 §4.1.1) that passed
// every check: its client exists and may use the code grant, its redirect
// URI is registered, PKCE is S256, and its scopes and resource resolve.
// The browser surface keeps it (see Encode) while the person signs in and
// consents.
type Authorization struct {
	Client      store.Client
	RedirectURI string
	State       string
	Nonce       string
	Challenge   string
	Prompt      []string
	// MaxAge is the max_age parameter in seconds; -1 when absent.
	MaxAge    int
	LoginHint string
	// Received is when the request first arrived, so that prompt=login
	// is satisfied by a sign-in after it.
	Received time.Time
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10): the code is
	// bound to that key, "" for none.
	DPoPJKT string
	scopes  userScopes
}

// Scopes returns every scope the request asks for, OpenID ones first.
func (a *Authorization) Scopes() []string { return a.scopes.all() }

// API returns the API the request asks a token for, or nil for none.
func (a *Authorization) API() *store.API { return a.scopes.api }

// RedirectError is an authorization error for the client: once the
// client and its redirect URI are known good, errors go back to it
// (RFC 6749 §4.1.2.1) at URL. Any other error is shown to the person and
// never redirected.
type RedirectError struct {
	Err *Error
	URL string
}

func (e *RedirectError) Error() string { return e.Err.Error() }

// redirectError builds the error answer for a.
func (s *Service) redirectError(a *Authorization, code, format string, args ...any) *RedirectError {
	e := newError(400, code, format, args...)
	v := url.Values{"error": {code}, "error_description": {e.Description}, "iss": {s.issuer}}
	if a.State != "" {
		v.Set("state", a.State)
	}
	return &RedirectError{Err: e, URL: withQuery(a.RedirectURI, v)}
}

// withQuery adds v to the query of u, keeping the query it has
// (RFC 6749 §3.1.2).
func withQuery(u string, v url.Values) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + v.Encode()
}

// Authorize checks the authorization request f (the query or form of
// GET/POST /oauth2/authorize) from the client address ip. A request_uri
// (RFC 9126) is taken from the pushed requests, once, and stands for the
// request. Errors before the redirect URI is known good are *Error,
// shown to the person; after, *RedirectError.
func (s *Service) Authorize(ctx context.Context, f Form, ip string) (*Authorization, error) {
	if uri := f.Get("request_uri"); uri != "" {
		var err error
		if f, err = s.takePushed(ctx, f.Get("client_id"), uri); err != nil {
			return nil, err
		}
	} else if f.Has("received") || f.Has("request_uri_taken") {
		// Only a request tokend stored itself says when it arrived.
		return nil, invalidRequest("received and request_uri_taken are not authorization parameters")
	}
	c, err := s.authorizeClient(ctx, f, ip)
	if err != nil {
		return nil, err
	}
	return s.authorizeFor(ctx, c, f)
}

// authorizeFor checks the authorization request f of the client c, found
// already: its approval and redirect URI, whose errors are never
// redirected, then the rest of f.
func (s *Service) authorizeFor(ctx context.Context, c store.Client, f Form) (*Authorization, error) {
	if err := checkRedirect(c, f); err != nil {
		return nil, err
	}
	a := &Authorization{Client: c, RedirectURI: f.Get("redirect_uri"), State: f.Get("state"), MaxAge: -1, Received: s.clock()}
	if us, err := strconv.ParseInt(f.Get("received"), 10, 64); err == nil && f.Has("request_uri_taken") {
		a.Received = time.UnixMicro(us).UTC() // encoded by Encode before a sign-in
	}
	if len(a.State) > 2000 {
		return nil, invalidRequest("state is longer than 2000 characters")
	}
	if err := s.checkAuthorizeParams(ctx, a, f); err != nil {
		return nil, err
	}
	return a, nil
}

// authorizeClient finds the client of an authorization request; errors
// here are never redirected (RFC 6749 §4.1.2.1).
func (s *Service) authorizeClient(ctx context.Context, f Form, ip string) (store.Client, error) {
	id := f.Get("client_id")
	if id == "" {
		return store.Client{}, invalidRequest("client_id is required")
	}
	c, err := s.lookupClient(ctx, id, ip)
	if errors.Is(err, store.ErrNotFound) || err == nil && !slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		return store.Client{}, newError(400, ErrInvalidClient, "no client with this client_id may use the authorization code grant")
	}
	return c, err
}

// checkRedirect checks that the client c of an authorization request is
// approved and that f's redirect URI is registered for it; errors here
// are never redirected (RFC 6749 §4.1.2.1).
func checkRedirect(c store.Client, f Form) error {
	if e := checkApproved(c); e != nil {
		return e
	}
	uri := f.Get("redirect_uri")
	switch {
	case uri == "" && len(c.RedirectURIs) == 1:
		// RFC 6749 §3.1.2.3: optional when exactly one is registered.
	case uri == "":
		return invalidRequest("redirect_uri is required")
	case !matchRedirect(c.RedirectURIs, uri):
		return invalidRequest("redirect_uri is not registered for this client")
	}
	return nil
}

// checkAuthorizeParams checks everything after the redirect URI; its
// errors go back to the client.
func (s *Service) checkAuthorizeParams(ctx context.Context, a *Authorization, f Form) error {
	if a.RedirectURI == "" {
		a.RedirectURI = a.Client.RedirectURIs[0]
	}
	if rt := f.Get("response_type"); rt != "code" {
		return s.redirectError(a, ErrUnsupportedResponseType, "response_type must be code")
	}
	if rm := f.Get("response_mode"); rm != "" && rm != "query" {
		return s.redirectError(a, ErrInvalidRequest, "response_mode must be query")
	}
	if f.Has("request") {
		return s.redirectError(a, "request_not_supported", "request objects are not supported; push the request (RFC 9126) instead")
	}
	if e := checkChallenge(f.Get("code_challenge"), f.Get("code_challenge_method")); e != nil {
		return &RedirectError{Err: e, URL: s.redirectError(a, e.Code, "%s", e.Description).URL}
	}
	a.Challenge, a.Nonce, a.LoginHint = f.Get("code_challenge"), f.Get("nonce"), f.Get("login_hint")
	if a.DPoPJKT = f.Get("dpop_jkt"); a.DPoPJKT != "" && !dpop.ValidThumbprint(a.DPoPJKT) {
		return s.redirectError(a, ErrInvalidRequest, "dpop_jkt must be a base64url SHA-256 JWK thumbprint")
	}
	if len(a.Nonce) > 500 || len(a.LoginHint) > 200 {
		return s.redirectError(a, ErrInvalidRequest, "nonce or login_hint is too long")
	}
	if p := f.Get("prompt"); p != "" {
		a.Prompt = strings.Fields(p)
		for _, v := range a.Prompt {
			if v != PromptNone && v != PromptLogin && v != PromptConsent && v != "select_account" {
				return s.redirectError(a, ErrInvalidRequest, "prompt %q is not supported", v)
			}
		}
		if slices.Contains(a.Prompt, PromptNone) && len(a.Prompt) > 1 {
			return s.redirectError(a, ErrInvalidRequest, "prompt=none cannot be combined with other values")
		}
	}
	if m := f.Get("max_age"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return s.redirectError(a, ErrInvalidRequest, "max_age must be a number of seconds")
		}
		a.MaxAge = n
	}
	us, err := s.resolveUserScopes(ctx, a.Client, f.Get("scope"), f.All("resource"))
	if e, ok := errors.AsType[*Error](err); ok {
		return s.redirectError(a, e.Code, "%s", e.Description)
	}
	if err != nil {
		return err
	}
	a.scopes = us
	return nil
}

// SignedIn is what the browser surface knows of the person behind an
// authorization request: their user id, the session, and when and how
// they last authenticated. A zero UserID means nobody is signed in.
type SignedIn struct {
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
}

// Step is what the browser surface must do next with an authorization.
type Step int

const (
	// StepLogin: have the person sign in (again), then decide again.
	StepLogin Step = iota + 1
	// StepConsent: ask the person to consent (ConsentFor says to what),
	// then call Consent or Deny.
	StepConsent
	// StepIssue: call IssueCode and redirect.
	StepIssue
)

// Decide says what an authorization needs, for the person who (perhaps)
// is signed in: a sign-in when nobody is, when prompt=login asks for one
// after the request arrived, or when the last one is older than max_age;
// consent unless the client is first-party or a stored grant covers the
// request, or when prompt=consent asks again. With prompt=none either
// need is the redirect error login_required or consent_required.
func (s *Service) Decide(ctx context.Context, a *Authorization, who SignedIn) (Step, error) {
	none := slices.Contains(a.Prompt, PromptNone)
	now := s.clock()
	needLogin := who.UserID == "" ||
		slices.Contains(a.Prompt, PromptLogin) && who.AuthTime.Before(a.Received) ||
		a.MaxAge >= 0 && now.Sub(who.AuthTime) > time.Duration(a.MaxAge)*time.Second
	if needLogin {
		if none {
			return 0, s.redirectError(a, ErrLoginRequired, "the person is not signed in")
		}
		return StepLogin, nil
	}
	if a.Client.FirstParty {
		return StepIssue, nil
	}
	covered, err := s.grantCovers(ctx, who.UserID, a.Client.ID, a.scopes)
	if err != nil {
		return 0, err
	}
	switch {
	case none && (!covered || slices.Contains(a.Prompt, PromptConsent)):
		return 0, s.redirectError(a, ErrConsentRequired, "the person has not consented")
	case !covered || slices.Contains(a.Prompt, PromptConsent):
		return StepConsent, nil
	}
	return StepIssue, nil
}

// Deny answers an authorization the person refused: the redirect URL
// with access_denied.
func (s *Service) Deny(a *Authorization) string {
	return s.redirectError(a, ErrAccessDenied, "the person denied the request").URL
}

// IssueCode issues an authorization code for a and the signed-in person
// who, and returns the URL to redirect to: the redirect URI with code,
// state and iss (RFC 9207). The code is stored only as its SHA-256.
func (s *Service) IssueCode(ctx context.Context, a *Authorization, who SignedIn) (string, error) {
	if who.UserID == "" {
		return "", errors.New("issue code: nobody is signed in")
	}
	now := s.clock()
	code := credential.Generate(credential.AuthCodePrefix)
	ac := store.AuthCode{Hash: credential.Hash(code), ClientID: a.Client.ID, UserID: who.UserID, RedirectURI: a.RedirectURI,
		Challenge: a.Challenge, Scopes: a.scopes.all(), Nonce: a.Nonce, AuthTime: who.AuthTime, AMR: who.AMR,
		SessionID: who.SessionID, CreatedAt: now, ExpiresAt: now.Add(CodeTTL), DPoPJKT: a.DPoPJKT}
	if ac.AuthTime.IsZero() {
		ac.AuthTime = now
	}
	if a.scopes.api != nil {
		ac.APIID = a.scopes.api.ID
	}
	if err := s.db.CreateAuthCode(ctx, ac); err != nil {
		return "", err
	}
	v := url.Values{"code": {code}, "iss": {s.issuer}}
	if a.State != "" {
		v.Set("state", a.State)
	}
	return withQuery(a.RedirectURI, v), nil
}

// pushed is the stored form of an authorization request: its parameters.
type pushed map[string][]string

// Encode returns a's parameters as a pushed request_uri the browser
// surface can carry through sign-in and consent (RFC 9126 request URIs
// are single use, so the surface encodes again after each use).
func (s *Service) Encode(ctx context.Context, a *Authorization) (string, error) {
	p := pushed{"client_id": {a.Client.ID}, "redirect_uri": {a.RedirectURI}, "response_type": {"code"},
		"code_challenge": {a.Challenge}, "code_challenge_method": {PKCEMethodS256}, "scope": {strings.Join(a.scopes.all(), " ")},
		"received": {strconv.FormatInt(a.Received.UnixMicro(), 10)}}
	for k, v := range map[string]string{"state": a.State, "nonce": a.Nonce, "login_hint": a.LoginHint,
		"prompt": strings.Join(a.Prompt, " "), "dpop_jkt": a.DPoPJKT} {
		if v != "" {
			p[k] = []string{v}
		}
	}
	if a.MaxAge >= 0 {
		p["max_age"] = []string{strconv.Itoa(a.MaxAge)}
	}
	if a.scopes.api != nil {
		p["resource"] = []string{a.scopes.api.Audience}
	}
	return s.push(ctx, a.Client.ID, p)
}

func (s *Service) push(ctx context.Context, clientID string, p pushed) (string, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	// Not of the opaque token format: a request_uri travels in a URL,
	// where tokend refuses anything shaped like a credential.
	uri := RequestURIPrefix + rand.Text()
	err = s.db.CreatePushedRequest(ctx, store.PushedRequest{Hash: credential.Hash(uri), ClientID: clientID, Params: raw,
		ExpiresAt: s.clock().Add(PushedRequestTTL)})
	return uri, err
}

// takePushed resolves request_uri for client clientID, once.
func (s *Service) takePushed(ctx context.Context, clientID, uri string) (Form, error) {
	bad := newError(400, ErrInvalidRequestURI, "request_uri is unknown, used or expired")
	if !strings.HasPrefix(uri, RequestURIPrefix) || len(uri) > 200 {
		return Form{}, bad
	}
	p, err := s.db.TakePushedRequest(ctx, credential.Hash(uri), s.clock())
	if errors.Is(err, store.ErrNotFound) {
		return Form{}, bad
	}
	if err != nil {
		return Form{}, err
	}
	if p.ClientID != clientID {
		return Form{}, bad
	}
	var params pushed
	if err := json.Unmarshal(p.Params, &params); err != nil {
		return Form{}, err
	}
	params["request_uri_taken"] = []string{"1"}
	return params.form(), nil
}

// form is p as a parsed form.
func (p pushed) form() Form {
	f := Form{values: make(map[string]string, len(p))}
	for k, vs := range p {
		switch {
		case len(vs) == 0:
		case repeatable(k):
			if f.multi == nil {
				f.multi = map[string][]string{}
			}
			f.multi[k] = vs
		default:
			f.values[k] = vs[0]
		}
	}
	return f
}

// RequestURIPrefix starts every request_uri tokend issues (RFC 9126
// §2.2); PushedRequestTTL is how long one may be used.
const (
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	PushedRequestTTL = 90 * time.Second
)

// newCodeFamily names the family of the tokens a code or device code
// issues.
func newCodeFamily(now time.Time) string { return ids.New("rtf", now) }

// PushedResponse is the answer of the PAR endpoint (RFC 9126 §2.2).
type PushedResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

// Push stores the authorization request f of the authenticated client c
// (RFC 9126 §2.1) after checking it as Authorize would; its errors are
// token-endpoint style, since nothing is redirected here. The request_uri
// it returns stands for the request once, for PushedRequestTTL. proof is
// the request's DPoP header, "" for none: a proof binds the code to its
// key as dpop_jkt does, and must be of the dpop_jkt's key when both are
// sent (RFC 9449 §10.1). c is the client as its authentication found it,
// not looked up again, so that a metadata document served with no-store
// is fetched once for the request.
func (s *Service) Push(ctx context.Context, c store.Client, f Form, proof string) (PushedResponse, error) {
	switch {
	case f.Has("request_uri"):
		return PushedResponse{}, invalidRequest("request_uri cannot be pushed")
	case f.Has("client_id") && f.Get("client_id") != c.ID:
		return PushedResponse{}, invalidRequest("client_id is not the authenticated client")
	case !slices.Contains(c.GrantTypes, GrantAuthorizationCode):
		// The client is known and authenticated: RFC 6749 §5.2 calls
		// that unauthorized_client, not invalid_client.
		return PushedResponse{}, newError(400, ErrUnauthorizedClient, "the client may not use the authorization code grant")
	}
	jkt, err := s.pushedBinding(ctx, f.Get("dpop_jkt"), proof)
	if err != nil {
		return PushedResponse{}, err
	}
	p := pushed{}
	for k, v := range f.values {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type", "received", "request_uri_taken":
		default:
			p[k] = []string{v}
		}
	}
	for k, vs := range f.multi {
		p[k] = vs
	}
	p["client_id"] = []string{c.ID}
	if jkt != "" {
		p["dpop_jkt"] = []string{jkt}
	}
	_, err = s.authorizeFor(ctx, c, p.form())
	if e, ok := errors.AsType[*RedirectError](err); ok {
		return PushedResponse{}, e.Err
	}
	if err != nil {
		return PushedResponse{}, err
	}
	uri, err := s.push(ctx, c.ID, p)
	if err != nil {
		return PushedResponse{}, err
	}
	return PushedResponse{RequestURI: uri, ExpiresIn: int64(PushedRequestTTL / time.Second)}, nil
}
