package oauth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// authorizationCode runs the authorization_code grant (RFC 6749 §4.1.3)
// for client c: the code must be c's, unexpired and unused, redirect_uri
// the one it was issued for, and code_verifier must hash to its PKCE
// challenge (RFC 7636 §4.6). A code presented a second time revokes
// everything it issued (RFC 6749 §4.1.2) and fails.
func (s *Service) authorizationCode(ctx context.Context, by audit.Actor, c store.Client, f Form, jkt string) (TokenResponse, error) {
	raw := f.Get("code")
	if raw == "" {
		return TokenResponse{}, invalidRequest("code is required")
	}
	if f.Get("code_verifier") == "" {
		return TokenResponse{}, invalidRequest("code_verifier is required: tokend requires PKCE")
	}
	bad := invalidGrant("the code is invalid, expired or was issued to another client")
	if p, ok := credential.Parse(raw); !ok || p != credential.AuthCodePrefix {
		return TokenResponse{}, bad
	}
	hash := credential.Hash(raw)
	code, err := s.db.AuthCodeByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, bad
	}
	if err != nil {
		return TokenResponse{}, err
	}
	if code.ClientID != c.ID {
		return TokenResponse{}, bad
	}
	// Before the replay check, as for refresh tokens.
	if err := requireKey(code.DPoPJKT, jkt, "the code"); err != nil {
		return TokenResponse{}, err
	}
	now := s.clock()
	switch {
	case !code.UsedAt.IsZero():
		return TokenResponse{}, s.replayed(ctx, by, code.Issued, now)
	case !now.Before(code.ExpiresAt):
		return TokenResponse{}, bad
	case f.Get("redirect_uri") != code.RedirectURI:
		return TokenResponse{}, invalidGrant("redirect_uri must be the one of the authorization request")
	case !verifierMatches(f.Get("code_verifier"), code.Challenge):
		return TokenResponse{}, invalidGrant("code_verifier does not match the code_challenge")
	}
	g := userGrant{client: c, ip: by.IP, userID: code.UserID, apiID: code.APIID, scopes: code.Scopes, nonce: code.Nonce,
		authTime: code.AuthTime, amr: code.AMR, sessionID: code.SessionID, jkt: jkt}
	resp, red, err := s.issueUserTokens(ctx, g, f.All("resource"), now)
	if err != nil {
		return TokenResponse{}, err
	}
	err = s.db.RedeemAuthCode(ctx, hash, now, red)
	if errors.Is(err, store.ErrTokenUsed) {
		// Redeemed concurrently: this is the replay.
		cur, err := s.db.AuthCodeByHash(ctx, hash)
		if err != nil {
			return TokenResponse{}, err
		}
		return TokenResponse{}, s.replayed(ctx, by, cur.Issued, now)
	}
	if err != nil {
		return TokenResponse{}, err
	}
	if err := s.db.TouchGrant(ctx, code.UserID, c.ID, now); err != nil {
		s.log.WarnContext(ctx, "record grant use", "err", err)
	}
	return resp, nil
}

// replayed revokes what a code issued, since it was presented again
// (RFC 6749 §4.1.2, RFC 9700 §4.2.4): whoever holds it now may be an
// attacker.
func (s *Service) replayed(ctx context.Context, by audit.Actor, iss store.Issued, now time.Time) error {
	ev, err := audit.Change(by, now, "authorization_code.replay", "refresh_family", iss.FamilyID, nil,
		map[string]string{"revoked": "issued tokens"})
	if err != nil {
		return err
	}
	if _, err := s.db.RevokeIssued(ctx, iss, now, ev); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "authorization code replayed; its tokens are revoked", "client_id", by.ID, "family", iss.FamilyID)
	return invalidGrant("the code was already used; the tokens it issued are revoked")
}

// userGrant is what a code or an approved device code grants.
type userGrant struct {
	client    store.Client
	userID    string
	apiID     string
	scopes    []string
	nonce     string
	authTime  time.Time
	amr       []string
	sessionID string
	jkt       string // the DPoP key of the token request, "" for none
	ip        string // the client address of the token request
}

// issueUserTokens makes the tokens of a user grant: an access token for
// its API (tokend's own, good for userinfo only, when it has none), a
// refresh token with offline_access for a client of the refresh_token
// grant, and an ID token with openid. The person must still exist and be
// enabled. It returns the answer and what to store with the redemption.
func (s *Service) issueUserTokens(ctx context.Context, g userGrant, resources []string, now time.Time) (TokenResponse, store.Redemption, error) {
	u, err := s.db.UserByID(ctx, g.userID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
		return TokenResponse{}, store.Redemption{}, invalidGrant("the person who granted access no longer may")
	}
	if err != nil {
		return TokenResponse{}, store.Redemption{}, err
	}
	a, err := s.grantAPI(ctx, g.apiID)
	if err != nil {
		return TokenResponse{}, store.Redemption{}, err
	}
	if len(resources) > 1 || len(resources) == 1 && (g.apiID == "" || resources[0] != a.Audience) {
		return TokenResponse{}, store.Redemption{}, invalidTarget("resource must be the one of the authorization request")
	}
	family := newCodeFamily(now)
	at, err := s.mintAccess(g.client, a, g.userID, g.scopes, family, g.jkt, now)
	if err != nil {
		return TokenResponse{}, store.Redemption{}, err
	}
	red := store.Redemption{Issued: store.Issued{FamilyID: family, AccessJTI: at.jti}, Access: at.record}
	if at.jti != "" {
		red.Issued.AccessExpiresAt = at.expiresAt
	}
	var refresh string
	if slices.Contains(g.scopes, ScopeOfflineAccess) && slices.Contains(g.client.GrantTypes, GrantRefreshToken) {
		var rt store.RefreshToken
		refresh, rt = s.mintRefresh(g.client, a.ID, g.userID, g.scopes, family, at, g.ip, now, now.Add(g.client.RefreshTokenTTL))
		red.Refresh = &rt
	}
	resp := at.response(refresh)
	if slices.Contains(g.scopes, ScopeOpenID) {
		ig := idGrant{user: u, scopes: g.scopes, nonce: g.nonce, authTime: g.authTime, amr: g.amr, sessionID: g.sessionID}
		if resp.IDToken, err = s.mintIDToken(g.client, ig, at.token, now); err != nil {
			return TokenResponse{}, store.Redemption{}, err
		}
	}
	return resp, red, nil
}

// grantAPI returns the API of a user grant, or tokend's own for none.
func (s *Service) grantAPI(ctx context.Context, apiID string) (store.API, error) {
	if apiID == "" {
		return s.userinfoAPI(), nil
	}
	a, err := s.apiByID(ctx, apiID)
	if errors.Is(err, store.ErrNotFound) {
		return store.API{}, invalidGrant("the API of the grant no longer exists")
	}
	return a, err
}
