package oauth

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// The access_token_format values of a client.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
)

// AccessClaims are the claims of a JWT access token (RFC 9068 §2.2).
// For client_credentials the subject is the client itself.
type AccessClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	Expiry   int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	ID       string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
}

// minted is an access token made but perhaps not yet stored: record is
// the row of an opaque token, nil for a JWT.
type minted struct {
	token     string
	jti       string
	expiresAt time.Time
	ttl       time.Duration
	record    *store.AccessToken
}

func (m minted) response(scopes []string, refresh string) TokenResponse {
	return TokenResponse{AccessToken: m.token, TokenType: "Bearer", ExpiresIn: int64(m.ttl / time.Second),
		Scope: strings.Join(scopes, " "), RefreshToken: refresh}
}

// mintAccess makes an access token in the client's format.
func (s *Service) mintAccess(c store.Client, a store.API, subject string, scopes []string, family string, now time.Time) (minted, error) {
	ttl := c.AccessTokenTTL
	m := minted{expiresAt: now.Add(ttl), ttl: ttl}
	if c.TokenFormat == FormatOpaque {
		m.token = apikey.Generate(AccessTokenPrefix)
		m.record = &store.AccessToken{Hash: apikey.Hash(m.token), ID: newID("at", now), ClientID: c.ID, APIID: a.ID,
			Subject: subject, Scopes: scopes, FamilyID: family, CreatedAt: now, ExpiresAt: m.expiresAt}
		return m, nil
	}
	m.jti = rand.Text()
	claims := AccessClaims{Issuer: s.issuer, Subject: subject, Audience: a.Audience, Expiry: m.expiresAt.Unix(),
		IssuedAt: now.Unix(), ID: m.jti, ClientID: c.ID, Scope: strings.Join(scopes, " ")}
	tok, err := s.signer.Sign(claims, JWTType)
	if err != nil {
		return minted{}, fmt.Errorf("sign access token: %w", err)
	}
	m.token = tok
	return m, nil
}

// mintRefresh makes the refresh token issued alongside access token at.
func (s *Service) mintRefresh(c store.Client, apiID, subject string, scopes []string, family string, at minted, now time.Time) (string, store.RefreshToken) {
	token := apikey.Generate(RefreshTokenPrefix)
	rt := store.RefreshToken{Hash: apikey.Hash(token), ID: newID("rt", now), FamilyID: family, ClientID: c.ID,
		APIID: apiID, Subject: subject, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(c.RefreshTokenTTL)}
	if at.jti != "" {
		rt.AccessJTI, rt.AccessExpiresAt = at.jti, at.expiresAt
	}
	return token, rt
}

func newID(prefix string, now time.Time) string { return ids.New(prefix, now) }
