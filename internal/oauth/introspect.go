package oauth

import (
	"context"
	"errors"
	"strings"

	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// Introspection is the RFC 7662 §2.2 answer. An inactive token is
// {"active":false} and nothing else, so that introspection tells nothing
// about tokens that may not be used. TokenKind is a tokend extension:
// api_key, access_token or refresh_token.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Expiry    int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	Audience  string `json:"aud,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	ID        string `json:"jti,omitempty"`
	TokenKind string `json:"token_kind,omitempty"`
	// Confirmation names the DPoP key a bound token needs (RFC 9449
	// §6.2); TokenType is then DPoP.
	Confirmation *credential.Confirmation `json:"cnf,omitempty"`
}

// bind marks out as bound to jkt, unless jkt is "".
func (out *Introspection) bind(jkt string) {
	if jkt != "" {
		out.Confirmation, out.TokenType = &credential.Confirmation{JKT: jkt}, TokenTypeDPoP
	}
}

// Introspect answers whether token is active, for an admin or verify
// key: every kind of token tokend issues, JWT and opaque access tokens
// and API keys through the verification engine, and refresh tokens from
// the store. For the engine's tokens active means VALID at /v1/verify
// (found, enabled, not expired, not revoked, with at least one credit
// left when the key has credits), but asking spends nothing: no rate
// limit and no credit of the token is used. A refresh token is active
// when neither used, revoked nor expired. clientIP is the address an
// IP-restricted API key is being used from, if the caller knows it.
func (s *Service) Introspect(ctx context.Context, token, clientIP string) (Introspection, error) {
	if token == "" {
		return Introspection{}, invalidRequest("token is required")
	}
	if p, ok := credential.Parse(token); ok && p == credential.RefreshTokenPrefix {
		return s.introspectRefresh(ctx, token)
	}
	req := verify.Request{Token: token, ClientIP: clientIP}
	var res verify.Result
	if err := s.verifier.Inspect(ctx, &req, &res); err != nil {
		return Introspection{}, err
	}
	if !res.Valid() || res.Token == nil {
		return Introspection{}, nil
	}
	return s.describe(ctx, token, &res)
}

// IntrospectFor answers as Introspect does, for the authenticated OAuth
// client c, and only about tokens issued to c (RFC 7662 §4): any other
// token, API keys and admin keys included, is {"active":false}.
func (s *Service) IntrospectFor(ctx context.Context, c store.Client, token, clientIP string) (Introspection, error) {
	out, err := s.Introspect(ctx, token, clientIP)
	if err != nil || !out.Active {
		return out, err
	}
	if out.ClientID != c.ID || out.TokenKind == credential.KindAPIKey {
		return Introspection{}, nil
	}
	return out, nil
}

// describe fills the answer for a token the engine found VALID (res).
func (s *Service) describe(ctx context.Context, token string, res *verify.Result) (Introspection, error) {
	ti := res.Token
	out := Introspection{Active: true, Scope: strings.Join(ti.Scopes, " "), Subject: ti.Subject,
		TokenType: TokenTypeBearer, TokenKind: ti.Kind, ClientID: ti.ClientID}
	out.bind(ti.JKT)
	if ti.ExpiresAt != nil {
		out.Expiry = ti.ExpiresAt.Unix()
	}
	if credential.LooksLikeJWT(token) {
		// The engine verified the signature of exactly this string, so
		// its payload may be read without verifying it again.
		c, err := credential.UnverifiedAccessClaims(token)
		if err != nil {
			return Introspection{}, err
		}
		out.ClientID, out.Subject, out.Issuer = c.ClientID, c.Subject, c.Issuer
		out.Audience = strings.Join(c.Audience, " ")
		out.Expiry, out.IssuedAt, out.ID, out.Scope = int64(c.Expiry), int64(c.IssuedAt), c.ID, c.Scope
		out.bind(c.BoundKey())
		return out, nil
	}
	if ti.Kind == credential.KindAccessToken {
		return s.describeOpaque(ctx, token, out)
	}
	// An API key or personal access token: jti is its id, the one the
	// API, the audit log and /v1/verify name it by (a rotated key's
	// secrets share it), and iat when the presented secret was issued.
	out.ID = ti.ID
	if !res.IssuedAt.IsZero() {
		out.IssuedAt = res.IssuedAt.Unix()
	}
	if a, err := s.apiByID(ctx, ti.APIID); err == nil {
		out.Audience = a.Audience
	} else if !errors.Is(err, store.ErrNotFound) {
		return Introspection{}, err
	}
	return out, nil
}

// describeOpaque completes out for an opaque access token the engine
// found VALID from its row, as a JWT's answer comes from its claims:
// iat is the time the token was issued, stored with it (exp minus the
// client's access_token_ttl would not be: the TTL may have changed
// since), aud its API's audience, and jti the row's public id, the one
// its access_token.revoke audit event names (never the hash). A token
// whose row went or was revoked meanwhile is inactive.
func (s *Service) describeOpaque(ctx context.Context, token string, out Introspection) (Introspection, error) {
	rec, err := s.db.AccessTokenByHash(ctx, credential.Hash(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && !rec.Token.RevokedAt.IsZero() {
		return Introspection{}, nil
	}
	if err != nil {
		return Introspection{}, err
	}
	out.Issuer, out.Audience = s.issuer, rec.Audience
	out.IssuedAt, out.Expiry, out.ID = rec.Token.CreatedAt.Unix(), rec.Token.ExpiresAt.Unix(), rec.Token.ID
	return out, nil
}

// introspectRefresh answers for a refresh token from its row. jti is
// the row's public id (rt_…), the refresh_token_id its
// refresh_token.revoke audit event names; never the secret or its hash.
func (s *Service) introspectRefresh(ctx context.Context, token string) (Introspection, error) {
	rt, err := s.db.RefreshTokenByHash(ctx, credential.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return Introspection{}, nil
	}
	if err != nil {
		return Introspection{}, err
	}
	now := s.clock()
	if !rt.UsedAt.IsZero() || !rt.RevokedAt.IsZero() || !now.Before(rt.ExpiresAt) {
		return Introspection{}, nil
	}
	out := Introspection{Active: true, Scope: strings.Join(rt.Scopes, " "), ClientID: rt.ClientID, Subject: rt.Subject,
		Expiry: rt.ExpiresAt.Unix(), IssuedAt: rt.CreatedAt.Unix(), Issuer: s.issuer, TokenKind: credential.KindRefreshToken,
		ID: rt.ID}
	out.bind(rt.JKT)
	if a, err := s.apiByID(ctx, rt.APIID); err == nil {
		out.Audience = a.Audience
	}
	return out, nil
}
