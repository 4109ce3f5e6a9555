package oauth

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"errors"
	"github.com/tokend/tokend/api"
	"slices"

	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// UserinfoPath is the OIDC userinfo endpoint; EndSessionPath the
// RP-initiated logout endpoint (a browser page).
const (
	UserinfoPath   = "/oauth2/userinfo"
	EndSessionPath = "/oauth2/logout"
	AuthorizePath  = "/oauth2/authorize"
	PARPath        = "/oauth2/par"
)

// ErrInsufficientScope is RFC 6750 §3.1's answer to a token without the
// scope an endpoint needs.
const ErrInsufficientScope = "insufficient_scope"

// Userinfo is the userinfo answer (OIDC Core §5.3.2): the subject and the
// claims its scopes release.
type Userinfo struct {
	Subject string `json:"sub"`
	UserClaims
}

// UserinfoRequest is a request to the userinfo endpoint: its access
// token, and with the DPoP scheme (RFC 9449 §7) the request's DPoP proof
// and method.
type UserinfoRequest struct {
	Token string
	// DPoP says the token came as "Authorization: DPoP"; Proof is the
	// request's one DPoP header ("" for none).
	DPoP   bool
	Proof  string
	Method string
}

// Userinfo answers for the access token of req: it must be valid (the
// verification engine decides, spending nothing), issued to a person,
// and hold the openid scope; a token bound to a DPoP key needs the DPoP
// scheme and a proof of that key for this request. Anything else is
// invalid_token (401), a DPoP error (401) or insufficient_scope (403), as
// RFC 6750 §3.1 and RFC 9449 §7.1 say.
func (s *Service) Userinfo(ctx context.Context, req UserinfoRequest) (Userinfo, error) {
	token := req.Token
	bad := newError(401, ErrInvalidToken, "the access token is not valid")
	if token == "" {
		return Userinfo{}, newError(401, ErrInvalidToken, "send an access token as Authorization: Bearer <token>")
	}
	var res verify.Result
	if err := s.verifier.Inspect(ctx, &verify.Request{Token: token}, &res); err != nil {
		return Userinfo{}, err
	}
	if res.Token == nil && credential.LooksLikeJWT(token) {
		if err := s.userinfoJWT(ctx, token, &res); err != nil {
			return Userinfo{}, err
		}
	}
	if !res.Valid() || res.Token == nil || (res.Token.Kind != credential.KindAccessToken && res.Token.Kind != credential.KindJWTAccessToken) {
		return Userinfo{}, bad
	}
	if err := s.userinfoBinding(ctx, req, res.Token.JKT); err != nil {
		return Userinfo{}, err
	}
	u, err := s.db.UserByID(ctx, res.Token.Subject)
	if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
		return Userinfo{}, bad // a client's own token, or a person who may no longer
	}
	if err != nil {
		return Userinfo{}, err
	}
	if !slices.Contains(res.Token.Scopes, ScopeOpenID) {
		return Userinfo{}, newError(403, ErrInsufficientScope, "the access token lacks the openid scope")
	}
	return Userinfo{Subject: u.ID, UserClaims: userClaims(u, res.Token.Scopes)}, nil
}

// Logout is a checked RP-initiated logout request (OIDC RP-Initiated
// Logout 1.0 §2): whom to sign out, if the ID token hint names them, and
// where to send the browser afterwards ("" for tokend's own page).
type Logout struct {
	ClientID    string
	UserID      string
	RedirectURI string
}

// CheckLogout validates the parameters of the end-session endpoint:
// id_token_hint, when sent, must be an ID token tokend signed (expired
// ones are fine: the hint only names the session); post_logout_redirect_uri
// must be registered for the client the hint or client_id names, and is
// returned with state. The page asks the person before signing them out.
func (s *Service) CheckLogout(ctx context.Context, f Form) (Logout, error) {
	var out Logout
	if hint := f.Get("id_token_hint"); hint != "" {
		claims, err := s.parseIDToken(hint)
		if err != nil {
			return Logout{}, invalidRequest("id_token_hint is not an ID token of this server")
		}
		out.ClientID, out.UserID = claims.Audience, claims.Subject
	}
	if id := f.Get("client_id"); id != "" {
		if out.ClientID != "" && id != out.ClientID {
			return Logout{}, invalidRequest("client_id is not the audience of id_token_hint")
		}
		out.ClientID = id
	}
	uri := f.Get("post_logout_redirect_uri")
	if uri == "" {
		return out, nil
	}
	if out.ClientID == "" {
		return Logout{}, invalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
	}
	c, err := s.client(ctx, out.ClientID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !slices.Contains(c.PostLogoutRedirectURIs, uri) {
		return Logout{}, invalidRequest("post_logout_redirect_uri is not registered for the client")
	}
	if err != nil {
		return Logout{}, err
	}
	out.RedirectURI = uri
	if st := f.Get("state"); st != "" {
		out.RedirectURI = withQuery(uri, map[string][]string{"state": {st}})
	}
	return out, nil
}

// parseIDToken checks the signature and issuer of an ID token tokend
// signed, and returns its claims.
func (s *Service) parseIDToken(tok string) (idClaims, error) {
	payload, err := s.signer.Verify(tok, credential.TypIDToken)
	if err != nil {
		return idClaims{}, err
	}
	var c idClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return idClaims{}, err
	}
	if c.Issuer != s.issuer {
		return idClaims{}, errors.New("another issuer")
	}
	return c, nil
}

// userinfoJWT checks a JWT access token whose audience is the userinfo
// endpoint (see userinfoAPI), which the verification engine does not
// know: signature and typ, issuer, audience, lifetime and revocation.
func (s *Service) userinfoJWT(ctx context.Context, token string, res *verify.Result) error {
	payload, err := s.signer.Verify(token, credential.TypAccessToken)
	if err != nil {
		return nil
	}
	c, err := credential.DecodeAccessClaims(payload)
	if err != nil || c.Issuer != s.issuer || !c.Audience.Contains(s.issuer+UserinfoPath) {
		return nil
	}
	now := s.now()
	if !now.Before(c.Expiry.Time()) || now.Add(time.Minute).Before(c.IssuedAt.Time()) {
		return nil
	}
	revoked, err := s.db.IsJTIRevoked(ctx, c.ID)
	if err != nil || revoked {
		return err
	}
	res.Code = api.CodeValid
	res.Token = &api.TokenInfo{ID: c.ID, Kind: credential.KindJWTAccessToken, Subject: c.Subject,
		Scopes: strings.Fields(c.Scope), ClientID: c.ClientID}
	return nil
}
