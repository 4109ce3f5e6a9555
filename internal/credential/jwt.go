package credential

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	josejson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// MaxJWTLen bounds the compact JWTs tokend parses.
const MaxJWTLen = 16 << 10

// ErrMalformedJWT is wrapped by every error of this file: the input is not
// a JWT tokend could have produced.
var ErrMalformedJWT = errors.New("malformed jwt")

// strictB64 decodes base64url without padding and refuses non-zero
// trailing bits, so that one signature has one spelling.
var strictB64 = base64.RawURLEncoding.Strict()

// LooksLikeJWT reports whether token has the shape of a compact JWS, as
// opposed to an opaque token (which holds no dot). It is a cheap test to
// pick a path, not a check.
func LooksLikeJWT(token string) bool {
	return len(token) <= MaxJWTLen && strings.Count(token, ".") == 2
}

// SplitJWS returns the three parts of a compact JWS: at most MaxJWTLen
// bytes, three non-empty parts of base64url characters only. Bytes such as
// CR, LF and '=' are refused here, before any decoder sees them, because
// Go's base64 decoders skip newlines even in strict mode and a token must
// have one spelling.
func SplitJWS(token string) (header, payload, sig string, err error) {
	if len(token) > MaxJWTLen {
		return "", "", "", fmt.Errorf("%w: longer than %d bytes", ErrMalformedJWT, MaxJWTLen)
	}
	header, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || header == "" || payload == "" || sig == "" {
		return "", "", "", fmt.Errorf("%w: not three non-empty dot-separated parts", ErrMalformedJWT)
	}
	for i, p := range [3]string{header, payload, sig} {
		if !isBase64URL(p) {
			return "", "", "", fmt.Errorf("%w: part %d holds a byte outside base64url", ErrMalformedJWT, i+1)
		}
	}
	return header, payload, sig, nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// DecodePart decodes one part of a compact JWS: canonical base64url
// without padding.
func DecodePart(part string) ([]byte, error) {
	if !isBase64URL(part) {
		return nil, fmt.Errorf("%w: a byte outside base64url", ErrMalformedJWT)
	}
	b, err := strictB64.DecodeString(part)
	if err != nil {
		return nil, fmt.Errorf("%w: not canonical base64url", ErrMalformedJWT)
	}
	return b, nil
}

// AccessClaims are the claims of an RFC 9068 JWT access token (§2.2).
// tokend issues one audience, which encodes as a string; for
// client_credentials the subject is the client itself.
type AccessClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  jwt.Audience    `json:"aud"`
	Expiry    jwt.NumericDate `json:"exp"`
	NotBefore jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  jwt.NumericDate `json:"iat"`
	ID        string          `json:"jti"`
	ClientID  string          `json:"client_id"`
	Scope     string          `json:"scope,omitempty"`
	// Confirmation binds a DPoP token to its key (RFC 9449 §6.1); nil
	// for a bearer token.
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Confirmation is the cnf claim of a sender-constrained token (RFC
// 7800): JKT is the RFC 7638 SHA-256 thumbprint of the DPoP key.
type Confirmation struct {
	JKT string `json:"jkt"`
}

// BoundKey returns the thumbprint the token is bound to, "" for none.
func (c AccessClaims) BoundKey() string {
	if c.Confirmation == nil {
		return ""
	}
	return c.Confirmation.JKT
}

// DecodeAccessClaims is the one decoder of access-token claims. payload
// must be one JSON object whose claim names match exactly (case-
// sensitively, unlike encoding/json) and appear once each (a duplicate is
// refused, not resolved); iss, sub, aud, exp, iat, jti and client_id are
// required (RFC 9068 §2.2). Unknown claims are ignored. It checks no
// value: the issuer, audience, times and revocation are the caller's.
func DecodeAccessClaims(payload []byte) (AccessClaims, error) {
	var c AccessClaims
	// go-jose's fork of encoding/json matches names case-sensitively and
	// refuses duplicate names: one payload has one meaning here and in
	// every strict verifier.
	if err := josejson.Unmarshal(payload, &c); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: claims: %v", ErrMalformedJWT, err)
	}
	switch {
	case c.Issuer == "", c.Subject == "", len(c.Audience) == 0, c.Expiry == 0, c.IssuedAt == 0,
		c.ID == "", c.ClientID == "":
		return AccessClaims{}, fmt.Errorf("%w: claims: iss, sub, aud, exp, iat, jti and client_id are required", ErrMalformedJWT)
	}
	return c, nil
}

// UnverifiedAccessClaims decodes the claims of token without checking
// its signature. Only callers that have just verified exactly this
// string may use it (introspection after the engine's answer).
func UnverifiedAccessClaims(token string) (AccessClaims, error) {
	_, payload, _, err := SplitJWS(token)
	if err != nil {
		return AccessClaims{}, err
	}
	b, err := DecodePart(payload)
	if err != nil {
		return AccessClaims{}, err
	}
	return DecodeAccessClaims(b)
}
