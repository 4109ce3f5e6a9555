package oauth

import (
	"context"
	"errors"
	"slices"
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
// refresh_token rotates: the presented token is marked used and a new one
// of the same family, with the same scopes, is issued with the access
// token. Presenting a used refresh token revokes the whole family,
// including the access tokens issued with it, and is invalid_grant.
func (s *Service) Token(ctx context.Context, c store.Client, f Form, ip string) (TokenResponse, error) {
	grant := f.Get("grant_type")
	switch {
	case grant == "":
		return TokenResponse{}, invalidRequest("grant_type is required")
	case grant != GrantClientCredentials && grant != GrantRefreshToken:
		return TokenResponse{}, newError(400, ErrUnsupportedGrantType, "grant_type must be %s or %s", GrantClientCredentials, GrantRefreshToken)
	case !slices.Contains(c.GrantTypes, grant):
		return TokenResponse{}, newError(400, ErrUnauthorizedClient, "the client may not use the %s grant", grant)
	}
	by := audit.Actor{ID: c.ID, IP: ip}
	if grant == GrantClientCredentials {
		return s.clientCredentials(ctx, by, c, f)
	}
	return s.refresh(ctx, by, c, f)
}

func (s *Service) clientCredentials(ctx context.Context, by audit.Actor, c store.Client, f Form) (TokenResponse, error) {
	a, err := s.resolveAPI(ctx, c, f.All("resource"))
	if err != nil {
		return TokenResponse{}, err
	}
	scopes, err := requestScopes(f.Get("scope"), c.APIScopes[a.ID])
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.clock()
	if !slices.Contains(c.GrantTypes, GrantRefreshToken) {
		at, err := s.mintAccess(c, a, c.ID, scopes, "", now)
		if err != nil {
			return TokenResponse{}, err
		}
		if at.record != nil {
			if err := s.db.CreateAccessToken(ctx, *at.record); err != nil {
				return TokenResponse{}, err
			}
		}
		return at.response(scopes, ""), nil
	}
	family := newID("rtf", now)
	at, err := s.mintAccess(c, a, c.ID, scopes, family, now)
	if err != nil {
		return TokenResponse{}, err
	}
	token, rt := s.mintRefresh(c, a.ID, c.ID, scopes, family, at, now)
	ev, err := audit.Change(by, now, "refresh_token.issue", "refresh_family", family, nil, refreshView(rt))
	if err != nil {
		return TokenResponse{}, err
	}
	if err := s.db.IssueRefreshToken(ctx, rt, at.record, ev); err != nil {
		return TokenResponse{}, err
	}
	return at.response(scopes, token), nil
}

func (s *Service) refresh(ctx context.Context, by audit.Actor, c store.Client, f Form) (TokenResponse, error) {
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
	now := s.clock()
	switch {
	case old.ClientID != c.ID:
		return TokenResponse{}, invalidGrant("the refresh token was issued to another client")
	case !old.RevokedAt.IsZero():
		return TokenResponse{}, invalidGrant("the refresh token is revoked")
	case !old.UsedAt.IsZero():
		return TokenResponse{}, s.reused(ctx, by, old, now)
	case !now.Before(old.ExpiresAt):
		return TokenResponse{}, invalidGrant("the refresh token has expired")
	}
	a, err := s.apiByID(ctx, old.APIID)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, invalidGrant("the refresh token's API no longer exists")
	}
	if err != nil {
		return TokenResponse{}, err
	}
	if rs := f.All("resource"); len(rs) > 1 || len(rs) == 1 && rs[0] != a.Audience {
		return TokenResponse{}, invalidTarget("resource must be the audience the refresh token was issued for")
	}
	allowed := intersect(old.Scopes, c.APIScopes[a.ID])
	scopes, err := requestScopes(f.Get("scope"), allowed)
	if err != nil {
		return TokenResponse{}, err
	}
	at, err := s.mintAccess(c, a, old.Subject, scopes, old.FamilyID, now)
	if err != nil {
		return TokenResponse{}, err
	}
	token, next := s.mintRefresh(c, a.ID, old.Subject, old.Scopes, old.FamilyID, at, now)
	ev, err := audit.Change(by, now, "refresh_token.rotate", "refresh_family", old.FamilyID,
		map[string]string{"refresh_token_id": old.ID}, map[string]string{"refresh_token_id": next.ID})
	if err != nil {
		return TokenResponse{}, err
	}
	err = s.db.RotateRefreshToken(ctx, hash, now, next, at.record, ev)
	if errors.Is(err, store.ErrTokenUsed) {
		return TokenResponse{}, s.reused(ctx, by, old, now) // used concurrently
	}
	if err != nil {
		return TokenResponse{}, err
	}
	return at.response(scopes, token), nil
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
	s.forgetFamily(rev)
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
	var usable []store.API
	for _, a := range apis {
		if _, ok := c.APIScopes[a.ID]; ok && a.ID != apikey.SystemAPIID {
			if len(resources) == 1 && a.Audience == resources[0] {
				return a, nil
			}
			usable = append(usable, a)
		}
	}
	switch {
	case len(resources) == 1:
		return store.API{}, invalidTarget("the resource is not an API this client may use")
	case len(usable) == 1:
		return usable[0], nil
	case len(usable) == 0:
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
	for _, sc := range strings.Split(param, " ") {
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

func refreshView(rt store.RefreshToken) map[string]any {
	return map[string]any{"client_id": rt.ClientID, "api_id": rt.APIID, "scopes": rt.Scopes,
		"refresh_token_id": rt.ID, "expires_at": rt.ExpiresAt.Format(time.RFC3339)}
}

// forgetFamily drops a revoked family's access tokens from the caches.
func (s *Service) forgetFamily(rev store.FamilyRevocation) {
	s.forget(rev.AccessHashes...)
	for _, jti := range rev.JTIs {
		s.forgetJTI(jti)
	}
}
