package oauth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/internal/store"
)

// AssertionAlgs are the signature algorithms accepted for private_key_jwt
// client assertions: asymmetric only, never none or HMAC. Ed25519 is RFC
// 9864's fully-specified name of EdDSA over an Ed25519 key, which clients
// such as panva's oauth4webapi sign with; both name the same signature.
var AssertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.RS256, jose.RS384,
	jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA, algEd25519}

// algEd25519 is RFC 9864's name for EdDSA over Ed25519, which go-jose
// does not know: verify checks its signature itself.
const algEd25519 = jose.SignatureAlgorithm("Ed25519")

// MaxAssertionLifetime bounds exp - now of a client assertion, and so how
// long its jti must be remembered.
const MaxAssertionLifetime = time.Hour

// assertionLeeway is the clock skew tolerated on exp, nbf and iat.
const assertionLeeway = 30 * time.Second

// assertion is a parsed, not yet verified, client assertion.
type assertion struct {
	tok     *jwt.JSONWebToken
	raw     string
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
	return &assertion{tok: tok, raw: raw, subject: c.Subject}, nil
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
	if !key.IsPublic() || (key.Use != "" && key.Use != "sig") || (key.Algorithm != "" && !sameAlg(key.Algorithm, h.Algorithm)) {
		return time.Time{}, errors.New("the key is not a public signing key for this algorithm")
	}
	var claims struct {
		jwt.Claims
	}
	if err := a.claims(key.Key, h.Algorithm, &claims); err != nil {
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

// sameAlg reports whether a key registered for alg keyAlg may verify a
// signature of alg sigAlg: the same name, or EdDSA and Ed25519, two names
// of one signature.
func sameAlg(keyAlg, sigAlg string) bool {
	ed := func(a string) bool { return a == string(jose.EdDSA) || a == string(algEd25519) }
	return keyAlg == sigAlg || ed(keyAlg) && ed(sigAlg)
}

// claims verifies the assertion's signature with key and decodes its
// claims into out. go-jose verifies every alg but Ed25519, which is the
// Ed25519 signature of EdDSA over the JWS signing input.
func (a *assertion) claims(key any, alg string, out any) error {
	if alg != string(algEd25519) {
		return a.tok.Claims(key, out)
	}
	pub, ok := key.(ed25519.PublicKey)
	cut := strings.LastIndexByte(a.raw, '.')
	if !ok || cut < 0 {
		return errors.New("an Ed25519 signature needs an Ed25519 key")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(a.raw[cut+1:])
	if err != nil || !ed25519.Verify(pub, []byte(a.raw[:cut]), sig) {
		return errors.New("bad signature")
	}
	return a.tok.UnsafeClaimsWithoutVerification(out)
}
