package tokenauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	josejson "github.com/go-jose/go-jose/v4/json"
)

// maxJWTLen bounds the JWTs this package parses, as tokend does.
const maxJWTLen = 16 << 10

// looksLikeJWT reports whether token has the shape of a compact JWS (two
// dots), as opposed to an opaque token, which has none.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// jwtHeader is the protected header of a JWS. Parameters other than these
// are ignored (RFC 7515 §4), except crit: this package understands no
// extension, so a token that names one is refused (§4.1.11). Keys are
// only ever taken from the JWKS, never from jwk, jku or x5c.
type jwtHeader struct {
	Alg  string              `json:"alg"`
	Kid  string              `json:"kid"`
	Typ  string              `json:"typ"`
	Crit josejson.RawMessage `json:"crit"`
}

// accessClaims are the claims of an RFC 9068 access token (§2.2). exp
// and nbf are NumericDates, seconds since the epoch.
type accessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	Expiry    float64  `json:"exp"`
	NotBefore float64  `json:"nbf"`
	ID        string   `json:"jti"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	// Cnf binds a DPoP token to its key (RFC 9449 §6.1).
	Cnf *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// audience is the aud claim: one string or an array of them (RFC 7519
// §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

func unixTime(secs float64) time.Time {
	whole := math.Floor(secs)
	return time.Unix(int64(whole), int64((secs-whole)*1e9)).UTC()
}

var b64 = base64.RawURLEncoding.Strict()

// checkJWT verifies a JWT access token locally, in the order RFC 9068 §4
// gives: typ at+jwt, a signature by a key of tokend's JWKS with that
// key's algorithm, then iss, aud, exp and nbf (with Config.Leeway). iat is
// not checked: it says nothing about validity. jkt is the thumbprint of
// the DPoP key the token is bound to (cnf.jkt, RFC 9449 §6.1), "" for a
// bearer token: the caller checks the binding.
func (a *Auth) checkJWT(ctx context.Context, token, audience string) (p *Principal, jkt string, e *Error) {
	h64, p64, s64, ok := splitJWS(token)
	if !ok {
		return nil, "", invalidToken("the token is malformed")
	}
	h, known := a.headers.get(h64)
	if !known {
		if raw, err := b64.DecodeString(h64); err != nil || josejson.Unmarshal(raw, &h) != nil || h.Crit != nil || h.Kid == "" {
			return nil, "", invalidToken("the token is malformed")
		}
	}
	if !isAccessTokenType(h.Typ) {
		return nil, "", invalidToken("the token is not a JWT access token")
	}
	k, e := a.keys.key(ctx, h.Kid)
	if e != nil {
		return nil, "", e
	}
	sig, err := b64.DecodeString(s64)
	if err != nil || h.Alg != k.alg || !verifySignature(k, token[:len(h64)+1+len(p64)], sig) {
		return nil, "", invalidToken("the token's signature is not valid")
	}
	if !known {
		a.headers.put(h64, h) // signed by tokend: safe to remember
	}
	// The claims are parsed with encoding/json, the faster decoder, only
	// now that the signature shows tokend wrote them: tokend never signs a
	// payload whose names differ only in case or repeat, so the decoders
	// cannot disagree on it.
	var c accessClaims
	if raw, err := b64.DecodeString(p64); err != nil || json.Unmarshal(raw, &c) != nil {
		return nil, "", invalidToken("the token is malformed")
	}
	if e := a.checkClaims(&c, audience); e != nil {
		return nil, "", e
	}
	if c.Cnf != nil {
		if jkt = c.Cnf.JKT; jkt == "" {
			return nil, "", invalidToken("the token's cnf names no DPoP key (jkt)")
		}
	}
	exp := unixTime(c.Expiry)
	return &Principal{Subject: c.Subject, TokenID: c.ID, Kind: KindJWTAccessToken, Scopes: strings.Fields(c.Scope),
		ClientID: c.ClientID, ExpiresAt: exp}, jkt, nil
}

func (a *Auth) checkClaims(c *accessClaims, audience string) *Error {
	now := a.now()
	switch {
	case c.Issuer == "" || c.Subject == "" || c.Expiry == 0 || c.ID == "" || len(c.Audience) == 0:
		return invalidToken("the token lacks a required claim")
	case c.Issuer != a.cfg.Issuer:
		return invalidToken("the token is unknown or not meant for this resource")
	case !slices.Contains(c.Audience, audience):
		return invalidToken("the token is unknown or not meant for this resource")
	case !now.Add(-a.cfg.Leeway).Before(unixTime(c.Expiry)):
		return invalidToken("the token has expired")
	case c.NotBefore != 0 && now.Add(a.cfg.Leeway).Before(unixTime(c.NotBefore)):
		return invalidToken("the token is not valid yet")
	}
	return nil
}

// splitJWS returns the three parts of a compact JWS of at most maxJWTLen
// bytes whose parts are non-empty and hold base64url characters only.
func splitJWS(token string) (h, p, s string, ok bool) {
	if len(token) > maxJWTLen {
		return "", "", "", false
	}
	h, rest, _ := strings.Cut(token, ".")
	p, s, _ = strings.Cut(rest, ".")
	for _, part := range [3]string{h, p, s} {
		if part == "" || strings.ContainsAny(part, "+/=~.") {
			return "", "", "", false
		}
	}
	return h, p, s, true
}

// isAccessTokenType compares a typ with "at+jwt" as RFC 7515 §4.1.9 and
// RFC 9068 §2.1 say: without case, with "application/" optional.
func isAccessTokenType(typ string) bool {
	if len(typ) > 12 && strings.EqualFold(typ[:12], "application/") {
		typ = typ[12:]
	}
	return strings.EqualFold(typ, "at+jwt")
}

// verifySignature checks sig over input with k (RFC 7518 §3).
func verifySignature(k publicKey, input string, sig []byte) bool {
	switch key := k.key.(type) {
	case *ecdsa.PublicKey:
		size := (key.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(key, digest(ecHash(k.alg), input), r, s)
	case ed25519.PublicKey:
		return ed25519.Verify(key, []byte(input), sig)
	case *rsa.PublicKey:
		hash := rsaHash(k.alg)
		if strings.HasPrefix(k.alg, "PS") {
			return rsa.VerifyPSS(key, hash, digest(hash, input), sig,
				&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(key, hash, digest(hash, input), sig) == nil
	}
	return false
}

func ecHash(alg string) crypto.Hash {
	switch alg {
	case "ES384":
		return crypto.SHA384
	case "ES512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

// rsaHash is the hash of an RSA algorithm; zero for anything else.
func rsaHash(alg string) crypto.Hash {
	if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
		return 0
	}
	switch alg[2:] {
	case "256":
		return crypto.SHA256
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return 0
}

func digest(h crypto.Hash, input string) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384([]byte(input))
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(input))
		return d[:]
	}
	d := sha256.Sum256([]byte(input))
	return d[:]
}

// headerCache remembers the decoded headers of tokens whose signature
// verified. Every token signed by one key has the same header, so this
// spares decoding it again; only tokend-signed headers enter, and at most
// maxHeaders of them (it is emptied when full).
type headerCache struct {
	mu sync.RWMutex
	m  map[string]jwtHeader
}

const maxHeaders = 64

func (c *headerCache) get(h64 string) (jwtHeader, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	h, ok := c.m[h64]
	return h, ok
}

func (c *headerCache) put(h64 string, h jwtHeader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxHeaders {
		c.m = make(map[string]jwtHeader)
	}
	c.m[h64] = h
}
