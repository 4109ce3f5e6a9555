package oauth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// TokenResponse is the successful answer of the token endpoint (RFC 6749
// §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// IDToken is the OpenID Connect ID token of a user grant with the
	// openid scope.
	IDToken string `json:"id_token,omitempty"`
	// DPoPNonce is the nonce for the client's next proof, sent in the
	// DPoP-Nonce header, not in the body.
	DPoPNonce string `json:"-"`
}

// Token runs the grant named by the form's grant_type for the
// authenticated client c, whose request came from ip.
//
// client_credentials issues an access token for the API named by the
// RFC 8707 resource parameter (its audience), or for the one API the
// client may use when it names none; scope narrows the client's allowed
// scopes on that API, and defaults to all of them. When the client also
// holds the refresh_token grant, a refresh token starts a new family.
//
// Scopes are always limited to those the client still has on the API and
// the API still defines.
//
// refresh_token rotates: the presented token is marked used and a new one
// of the same family is issued with the access token. The grant is
// checked against the current policy first (see regrant): scopes since
// withdrawn are dropped, and a grant withdrawn entirely revokes the
// family. A family ends refresh_token_ttl after it started; rotation does
// not extend it. Presenting a used refresh token revokes the whole
// family, including the access tokens issued with it, and is
// invalid_grant, unless it was used less than RefreshRaceGrace ago.
//
// A DPoP proof binds the tokens to its key (see dpop.go).
func (s *Service) Token(ctx context.Context, req TokenRequest) (TokenResponse, error) {
	c, f := req.Client, req.Form
	grant := f.Get("grant_type")
	switch {
	case grant == "":
		return TokenResponse{}, invalidRequest("grant_type is required")
	case !slices.Contains(grantTypes, grant):
		return TokenResponse{}, newError(400, ErrUnsupportedGrantType, "grant_type must be one of %s", strings.Join(grantTypes, ", "))
	case !slices.Contains(c.GrantTypes, grant):
		return TokenResponse{}, newError(400, ErrUnauthorizedClient, "the client may not use the %s grant", grant)
	}
	jkt, err := s.dpopBinding(ctx, c, req.DPoP)
	if err != nil {
		return TokenResponse{}, err
	}
	by := audit.Actor{ID: c.ID, IP: req.IP}
	var resp TokenResponse
	switch grant {
	case GrantClientCredentials:
		resp, err = s.clientCredentials(ctx, by, c, f, jkt)
	case GrantAuthorizationCode:
		resp, err = s.authorizationCode(ctx, by, c, f, jkt)
	case GrantDeviceCode:
		resp, err = s.deviceCode(ctx, by, c, f, jkt)
	default:
		resp, err = s.refresh(ctx, by, c, f, jkt)
	}
	if err == nil && jkt != "" {
		resp.DPoPNonce = s.dpop.Nonce()
	}
	return resp, err
}

func (s *Service) clientCredentials(ctx context.Context, by audit.Actor, c store.Client, f Form, jkt string) (TokenResponse, error) {
	a, err := s.resolveAPI(ctx, c, f.All("resource"))
	if err != nil {
		return TokenResponse{}, err
	}
	scopes, err := requestScopes(f.Get("scope"), grantable(c, a))
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.clock()
	if !slices.Contains(c.GrantTypes, GrantRefreshToken) {
		at, err := s.mintAccess(c, a, c.ID, scopes, "", jkt, now)
		if err != nil {
			return TokenResponse{}, err
		}
		if at.record != nil {
			if err := s.db.CreateAccessToken(ctx, *at.record); err != nil {
				return TokenResponse{}, err
			}
		}
		return at.response(""), nil
	}
	family := newID("rtf", now)
	at, err := s.mintAccess(c, a, c.ID, scopes, family, jkt, now)
	if err != nil {
		return TokenResponse{}, err
	}
	token, rt := s.mintRefresh(c, a.ID, c.ID, scopes, family, at, by.IP, now, now.Add(c.RefreshTokenTTL))
	if err := s.db.IssueRefreshToken(ctx, rt, at.record); err != nil {
		return TokenResponse{}, err
	}
	return at.response(token), nil
}

// grantable is what client c may be granted on API a now: its scopes on
// a that a still defines.
func grantable(c store.Client, a store.API) []string {
	return intersect(c.APIScopes[a.ID], a.Scopes)
}

func (s *Service) refresh(ctx context.Context, by audit.Actor, c store.Client, f Form, jkt string) (TokenResponse, error) {
	raw := f.Get("refresh_token")
	if raw == "" {
		return TokenResponse{}, invalidRequest("refresh_token is required")
	}
	if p, ok := credential.Parse(raw); !ok || p != credential.RefreshTokenPrefix {
		return TokenResponse{}, invalidGrant("the refresh token is invalid")
	}
	hash := credential.Hash(raw)
	old, err := s.db.RefreshTokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, invalidGrant("the refresh token is invalid")
	}
	if err != nil {
		return TokenResponse{}, err
	}
	if old.ClientID != c.ID {
		return TokenResponse{}, invalidGrant("the refresh token was issued to another client")
	}
	// Before the reuse check: whoever lacks the key must not be able to
	// revoke the family by presenting a used token.
	if err := requireKey(old.JKT, jkt, "the refresh token"); err != nil {
		return TokenResponse{}, err
	}
	now := s.clock()
	switch {
	case !old.RevokedAt.IsZero():
		return TokenResponse{}, invalidGrant("the refresh token is revoked")
	case !old.UsedAt.IsZero() && now.Sub(old.UsedAt) < RefreshRaceGrace:
		return TokenResponse{}, errRaceLost
	case !old.UsedAt.IsZero():
		return TokenResponse{}, s.reused(ctx, by, old, now)
	case !now.Before(old.ExpiresAt):
		return TokenResponse{}, invalidGrant("the refresh token has expired")
	}
	a, scopes, err := s.regrant(ctx, by, c, old, f, now)
	if err != nil {
		return TokenResponse{}, err
	}
	at, err := s.mintAccess(c, a, old.Subject, scopes, old.FamilyID, jkt, now)
	if err != nil {
		return TokenResponse{}, err
	}
	// The family keeps the expiry of its first token: rotation never
	// extends it, and a shorter refresh_token_ttl set since applies.
	expires := old.ExpiresAt
	if e := now.Add(c.RefreshTokenTTL); e.Before(expires) {
		expires = e
	}
	token, next := s.mintRefresh(c, a.ID, old.Subject, intersect(old.Scopes, grantable(c, a)), old.FamilyID, at, by.IP, now, expires)
	err = s.db.RotateRefreshToken(ctx, hash, now, next, at.record)
	if errors.Is(err, store.ErrTokenUsed) {
		// Used (or revoked) concurrently, between our read and our
		// write: the loser of a race, which keeps the winner's tokens.
		return TokenResponse{}, errRaceLost
	}
	if err != nil {
		return TokenResponse{}, err
	}
	return at.response(token), nil
}

// RefreshRaceGrace is how long after a refresh token was used presenting
// it again only fails, without revoking its family: the loser of a race
// between two refreshes of one token (a client retrying after a timeout)
// must not revoke the tokens the winner just received. Later, a reuse
// revokes the family (RFC 9700 §4.14.2).
const RefreshRaceGrace = 5 * time.Second

var errRaceLost = invalidGrant("the refresh token was just used by another request")

// regrant checks the grant of refresh token old against the current
// policy: the client must still be allowed the token's API, and the
// scopes are narrowed to those the client still has there and the API
// still defines (RFC 6749 §6: never more than originally granted). When
// the API is no longer the client's, or none of the token's scopes is
// left, the family is revoked and the answer is invalid_grant. It returns
// the API and the scopes of the new access token.
func (s *Service) regrant(ctx context.Context, by audit.Actor, c store.Client, old store.RefreshToken, f Form, now time.Time) (store.API, []string, error) {
	a, err := s.apiByID(ctx, old.APIID)
	if old.APIID == apikey.SystemAPIID && old.Subject != c.ID {
		a, err = s.userinfoAPI(), nil // a user grant without an API
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.API{}, nil, invalidGrant("the refresh token's API no longer exists")
	}
	if err != nil {
		return store.API{}, nil, err
	}
	if rs := f.All("resource"); len(rs) > 1 || len(rs) == 1 && rs[0] != a.Audience {
		return store.API{}, nil, invalidTarget("resource must be the audience the refresh token was issued for")
	}
	_, allowed := c.APIScopes[a.ID]
	may := grantable(c, a)
	if old.Subject != c.ID {
		// A user grant: its OpenID scopes stay, tokend's own API stands
		// for none, and the person must still be enabled.
		may = append(userGrantable(c, a), OIDCScopes...)
		allowed = allowed || a.ID == apikey.SystemAPIID || mayUse(c, a)
		u, err := s.db.UserByID(ctx, old.Subject)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.API{}, nil, err
		}
		allowed = allowed && err == nil && u.Enabled
	}
	kept := intersect(old.Scopes, may)
	if !allowed || len(old.Scopes) > 0 && len(kept) == 0 {
		return store.API{}, nil, s.revokeWithdrawn(ctx, by, old, now)
	}
	scopes, err := requestScopes(f.Get("scope"), kept)
	if err != nil {
		return store.API{}, nil, err
	}
	return a, scopes, nil
}

// revokeWithdrawn revokes the family of refresh token old, whose grant
// the current policy no longer allows.
func (s *Service) revokeWithdrawn(ctx context.Context, by audit.Actor, old store.RefreshToken, now time.Time) error {
	ev, err := audit.Change(by, now, "refresh_token.revoke", "refresh_family", old.FamilyID, nil,
		map[string]string{"refresh_token_id": old.ID, "revoked": "family", "reason": "grant withdrawn"})
	if err != nil {
		return err
	}
	if _, err := s.db.RevokeRefreshFamily(ctx, old.FamilyID, now, ev); err != nil {
		return err
	}
	return invalidGrant("the client may no longer get this grant; the refresh token's family is revoked")
}

// reused revokes the family of a refresh token presented a second time
// (RFC 9700 §4.14.2): either the legitimate client or an attacker holds a
// stolen copy, and tokend cannot tell which.
func (s *Service) reused(ctx context.Context, by audit.Actor, old store.RefreshToken, now time.Time) error {
	ev, err := audit.Change(by, now, "refresh_token.reuse", "refresh_family", old.FamilyID,
		nil, map[string]string{"refresh_token_id": old.ID, "revoked": "family"})
	if err != nil {
		return err
	}
	rev, err := s.db.RevokeRefreshFamily(ctx, old.FamilyID, now, ev)
	if err != nil {
		return err
	}
	s.log.WarnContext(ctx, "refresh token reused; family revoked", "client_id", old.ClientID,
		"family", old.FamilyID, "refresh_tokens", rev.RefreshTokens, "access_tokens", len(rev.AccessHashes)+len(rev.JTIs))
	return invalidGrant("the refresh token was already used; its family is revoked")
}

// resolveAPI picks the API of the request: the one whose audience is the
// single resource parameter, or, without one, the only API the client may
// use. The API must be one the client may use, and never tokend's own.
func (s *Service) resolveAPI(ctx context.Context, c store.Client, resources []string) (store.API, error) {
	if len(resources) > 1 {
		return store.API{}, invalidTarget("give at most one resource: a token has one audience")
	}
	apis, err := s.listAPIs(ctx)
	if err != nil {
		return store.API{}, err
	}
	var first store.API
	usable := 0
	for _, a := range apis {
		if _, ok := c.APIScopes[a.ID]; ok && a.ID != apikey.SystemAPIID {
			if len(resources) == 1 && a.Audience == resources[0] {
				return a, nil
			}
			if usable++; usable == 1 {
				first = a
			}
		}
	}
	switch {
	case len(resources) == 1:
		return store.API{}, invalidTarget("the resource is not an API this client may use")
	case usable == 1:
		return first, nil
	case usable == 0:
		return store.API{}, invalidTarget("the client may not use any API")
	}
	return store.API{}, invalidTarget("resource is required: the client may use several APIs")
}

// requestScopes checks the space-delimited scope parameter (RFC 6749
// §3.3) against allowed. An absent parameter asks for all of allowed.
func requestScopes(param string, allowed []string) ([]string, error) {
	if param == "" {
		return slices.Clone(allowed), nil
	}
	var out []string
	for sc := range strings.SplitSeq(param, " ") {
		if sc == "" || slices.Contains(out, sc) {
			continue
		}
		if err := valid.Scope("scope", sc); err != nil {
			return nil, invalidScope("scope has a character RFC 6749 forbids")
		}
		if !slices.Contains(allowed, sc) {
			return nil, invalidScope("the client may not request scope %q here", sc)
		}
		out = append(out, sc)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// AppendJSON appends the answer as the JSON object encoding/json makes of
// it (same members, order and escaping), without reflection: the token
// endpoint answers with it on every request.
func (t TokenResponse) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"access_token":`...)
	dst = credential.AppendJSONString(dst, t.AccessToken)
	dst = append(dst, `,"token_type":`...)
	dst = credential.AppendJSONString(dst, t.TokenType)
	dst = append(dst, `,"expires_in":`...)
	dst = strconv.AppendInt(dst, t.ExpiresIn, 10)
	if t.Scope != "" {
		dst = append(dst, `,"scope":`...)
		dst = credential.AppendJSONString(dst, t.Scope)
	}
	if t.RefreshToken != "" {
		dst = append(dst, `,"refresh_token":`...)
		dst = credential.AppendJSONString(dst, t.RefreshToken)
	}
	if t.IDToken != "" {
		dst = append(dst, `,"id_token":`...)
		dst = credential.AppendJSONString(dst, t.IDToken)
	}
	return append(dst, '}')
}
