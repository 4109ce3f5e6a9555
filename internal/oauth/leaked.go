package oauth

import (
	"context"
	"errors"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// RevokeLeaked revokes token, an OAuth token found in public at where (a
// URL, or ""), whichever client it was issued to: an opaque access
// token, a refresh token (with its whole family, as Revoke does), or a
// JWT access token of this issuer (by its jti, until it expires). The
// audit event records the reason ("leaked") and where. It returns the id
// of what it revoked (access token id, refresh family id or jti), or ""
// when token is none of these, unknown, expired or already revoked.
func (s *Service) RevokeLeaked(ctx context.Context, by audit.Actor, token, where string) (string, error) {
	now := s.clock()
	why := map[string]string{"reason": "leaked", "found_at": where}
	if credential.LooksLikeJWT(token) {
		payload, err := s.signer.Verify(token, credential.TypAccessToken)
		if err != nil {
			return "", nil
		}
		claims, err := credential.DecodeAccessClaims(payload)
		if err != nil || claims.Issuer != s.issuer || !claims.Expiry.Time().After(now) {
			return "", nil
		}
		ev, err := audit.Change(by, now, "access_token.revoke", "jwt", claims.ID, nil, why)
		if err != nil {
			return "", err
		}
		return claims.ID, s.db.RevokeJTI(ctx, claims.ID, claims.Expiry.Time(), ev)
	}
	h := credential.Hash(token)
	switch p, _ := credential.Parse(token); p {
	case credential.AccessTokenPrefix:
		rec, err := s.db.AccessTokenByHash(ctx, h)
		if errors.Is(err, store.ErrNotFound) || err == nil && (!rec.Token.RevokedAt.IsZero() || !now.Before(rec.Token.ExpiresAt)) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		ev, err := audit.Change(by, now, "access_token.revoke", "access_token", rec.Token.ID, nil, why)
		if err != nil {
			return "", err
		}
		changed, err := s.db.RevokeAccessToken(ctx, h, now, ev)
		if errors.Is(err, store.ErrNotFound) || err == nil && !changed {
			return "", nil
		}
		return rec.Token.ID, err
	case credential.RefreshTokenPrefix:
		rt, err := s.db.RefreshTokenByHash(ctx, h)
		if errors.Is(err, store.ErrNotFound) || err == nil && !rt.RevokedAt.IsZero() {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		why["refresh_token_id"], why["revoked"] = rt.ID, "family"
		ev, err := audit.Change(by, now, "refresh_token.revoke", "refresh_family", rt.FamilyID, nil, why)
		if err != nil {
			return "", err
		}
		if _, err := s.db.RevokeRefreshFamily(ctx, rt.FamilyID, now, ev); err != nil {
			return "", err
		}
		return rt.FamilyID, nil
	}
	return "", nil
}
