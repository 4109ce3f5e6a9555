package oauth

import (
	"context"
	"errors"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// Revoke revokes token for the authenticated client c (RFC 7009):
// an access token (JWT or opaque) or a refresh token issued to c. Revoking
// a refresh token revokes its whole family with the access tokens issued
// with it (RFC 7009 §2.1). A JWT is revoked by its jti until it expires.
// The token_type_hint is not needed: tokend tells the kinds apart by
// their shape. A token issued to another client is refused with
// unauthorized_client, as RFC 7009 §2.1 requires; a token tokend does not
// know, one already revoked or expired, and one of another kind (an API
// key) are answered as success without any change (§2.2).
func (s *Service) Revoke(ctx context.Context, c store.Client, token, ip string) error {
	if token == "" {
		return invalidRequest("token is required")
	}
	by := audit.Actor{ID: c.ID, IP: ip}
	now := s.clock()
	if credential.LooksLikeJWT(token) {
		return s.revokeJWT(ctx, by, c, token, now)
	}
	switch p, _ := credential.Parse(token); p {
	case credential.RefreshTokenPrefix:
		rt, err := s.db.RefreshTokenByHash(ctx, credential.Hash(token))
		if err == nil && rt.ClientID != c.ID {
			return errNotYours
		}
		if errors.Is(err, store.ErrNotFound) || err == nil && !rt.RevokedAt.IsZero() {
			return nil
		}
		if err != nil {
			return err
		}
		ev, err := audit.Change(by, now, "refresh_token.revoke", "refresh_family", rt.FamilyID, nil,
			map[string]string{"refresh_token_id": rt.ID, "revoked": "family"})
		if err != nil {
			return err
		}
		if _, err := s.db.RevokeRefreshFamily(ctx, rt.FamilyID, now, ev); err != nil {
			return err
		}
	case credential.AccessTokenPrefix:
		h := credential.Hash(token)
		rec, err := s.db.AccessTokenByHash(ctx, h)
		if err == nil && rec.Token.ClientID != c.ID {
			return errNotYours
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ev, err := audit.Change(by, now, "access_token.revoke", "access_token", rec.Token.ID, nil,
			map[string]string{"client_id": c.ID})
		if err != nil {
			return err
		}
		if _, err := s.db.RevokeAccessToken(ctx, h, now, ev); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// errNotYours refuses the revocation of a token issued to another client
// (RFC 7009 §2.1).
var errNotYours = newError(400, ErrUnauthorizedClient, "the token was not issued to this client")

func (s *Service) revokeJWT(ctx context.Context, by audit.Actor, c store.Client, token string, now time.Time) error {
	payload, err := s.signer.Verify(token, credential.TypAccessToken)
	if err != nil {
		return nil // not a token of ours
	}
	claims, err := credential.DecodeAccessClaims(payload)
	if err != nil {
		return nil
	}
	exp := claims.Expiry.Time()
	if claims.Issuer != s.issuer || !exp.After(now) {
		return nil
	}
	if claims.ClientID != c.ID {
		return errNotYours
	}
	ev, err := audit.Change(by, now, "access_token.revoke", "jwt", claims.ID, nil, map[string]string{"client_id": c.ID})
	if err != nil {
		return err
	}
	return s.db.RevokeJTI(ctx, claims.ID, exp, ev)
}
