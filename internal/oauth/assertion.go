package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/internal/store"
)

// AssertionAlgs are the signature algorithms accepted for private_key_jwt
// client assertions: asymmetric only, never none or HMAC.
var AssertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384,
	jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// MaxAssertionLifetime bounds exp - now of a client assertion, and so how
// long its jti must be remembered.
const MaxAssertionLifetime = time.Hour

// assertionLeeway is the clock skew tolerated on exp, nbf and iat.
const assertionLeeway = 30 * time.Second

// assertion is a parsed, not yet verified, client assertion.
type assertion struct {
	tok     *jwt.JSONWebToken
	subject string
	jti     string
}

func parseAssertion(raw string) (*assertion, error) {
	tok, err := jwt.ParseSigned(raw, AssertionAlgs)
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, err
	}
	return &assertion{tok: tok, subject: c.Subject}, nil
}

// verify checks the signature with a key of c's JWKS and the claims of
// RFC 7523 §3: iss and sub are the client id, aud names the authorization
// server (any of audiences), exp is present and near, jti is present. It
// returns the expiry.
func (a *assertion) verify(c store.Client, audiences []string, now time.Time) (time.Time, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.JWKS, &set); err != nil {
		return time.Time{}, fmt.Errorf("client jwks: %w", err)
	}
	h := a.tok.Headers[0]
	var key *jose.JSONWebKey
	switch keys := set.Key(h.KeyID); {
	case h.KeyID != "" && len(keys) == 1:
		key = &keys[0]
	case h.KeyID == "" && len(set.Keys) == 1:
		key = &set.Keys[0]
	default:
		return time.Time{}, fmt.Errorf("no single key for kid %q", h.KeyID)
	}
	if !key.IsPublic() || (key.Use != "" && key.Use != "sig") || (key.Algorithm != "" && key.Algorithm != h.Algorithm) {
		return time.Time{}, errors.New("the key is not a public signing key for this algorithm")
	}
	var claims struct {
		jwt.Claims
	}
	if err := a.tok.Claims(key.Key, &claims); err != nil {
		return time.Time{}, err
	}
	if claims.Expiry == nil || claims.ID == "" || len(claims.ID) > 256 {
		return time.Time{}, errors.New("exp and jti are required")
	}
	exp := claims.Expiry.Time()
	if exp.Sub(now) > MaxAssertionLifetime {
		return time.Time{}, errors.New("exp is too far ahead")
	}
	err := claims.ValidateWithLeeway(jwt.Expected{Issuer: c.ID, Subject: c.ID, AnyAudience: audiences, Time: now},
		assertionLeeway)
	if err != nil {
		return time.Time{}, err
	}
	a.jti = claims.ID
	return exp.Add(assertionLeeway), nil
}
