package oauth

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// The access_token_format values of a client.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
)

// minted is an access token made but perhaps not yet stored: record is
// the row of an opaque token, nil for a JWT.
type minted struct {
	token     string
	jti       string
	expiresAt time.Time
	ttl       time.Duration
	scope     string // the granted scopes, space-delimited
	jkt       string // the DPoP key the token is bound to, "" for none
	record    *store.AccessToken
}

func (m minted) response(refresh string) TokenResponse {
	typ := TokenTypeBearer
	if m.jkt != "" {
		typ = TokenTypeDPoP
	}
	return TokenResponse{AccessToken: m.token, TokenType: typ, ExpiresIn: int64(m.ttl / time.Second),
		Scope: m.scope, RefreshToken: refresh}
}

// mintAccess makes an access token in the client's format, bound to the
// DPoP key jkt unless it is "".
// A JWT lives at most the signer's MaxTokenTTL, the time its key stays
// published, even for a client whose access_token_ttl was set before
// --max-token-ttl was lowered.
func (s *Service) mintAccess(c store.Client, a store.API, subject string, scopes []string, family, jkt string, now time.Time) (minted, error) {
	ttl := c.AccessTokenTTL
	if max := s.signer.MaxTokenTTL(); c.TokenFormat == FormatJWT && ttl > max {
		ttl = max
	}
	m := minted{expiresAt: now.Add(ttl), ttl: ttl, scope: strings.Join(scopes, " "), jkt: jkt}
	if c.TokenFormat == FormatOpaque {
		m.token = credential.Generate(credential.AccessTokenPrefix)
		m.record = &store.AccessToken{Hash: credential.Hash(m.token), ID: newID("at", now), ClientID: c.ID, APIID: a.ID,
			Subject: subject, Scopes: scopes, FamilyID: family, CreatedAt: now, ExpiresAt: m.expiresAt, JKT: jkt}
		return m, nil
	}
	m.jti = rand.Text()
	claims := credential.AccessClaims{Issuer: s.issuer, Subject: subject, Audience: jwt.Audience{a.Audience},
		Expiry: jwt.NumericDate(m.expiresAt.Unix()), IssuedAt: jwt.NumericDate(now.Unix()), ID: m.jti, ClientID: c.ID, Scope: m.scope}
	if jkt != "" {
		claims.Confirmation = &credential.Confirmation{JKT: jkt}
	}
	tok, err := s.signer.SignJSON(claims.AppendJSON(make([]byte, 0, 512)), credential.TypAccessToken)
	if err != nil {
		return minted{}, fmt.Errorf("sign access token: %w", err)
	}
	m.token = tok
	return m, nil
}

// mintRefresh makes the refresh token issued alongside access token at,
// expiring at expires, to a token request from client address ip. A public client's refresh token is bound to the
// DPoP key of at (RFC 9449 §5); a confidential client's is bound to its
// authentication already.
func (s *Service) mintRefresh(c store.Client, apiID, subject string, scopes []string, family string, at minted, ip string, now, expires time.Time) (string, store.RefreshToken) {
	token := credential.Generate(credential.RefreshTokenPrefix)
	rt := store.RefreshToken{Hash: credential.Hash(token), ID: newID("rt", now), FamilyID: family, ClientID: c.ID,
		APIID: apiID, Subject: subject, Scopes: scopes, CreatedAt: now, ExpiresAt: expires, IP: ip}
	if c.AuthMethod == AuthNone {
		rt.JKT = at.jkt
	}
	if at.jti != "" {
		rt.AccessJTI, rt.AccessExpiresAt = at.jti, at.expiresAt
	}
	return token, rt
}

func newID(prefix string, now time.Time) string { return ids.New(prefix, now) }
