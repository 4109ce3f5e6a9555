package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Signing builds the compact JWS (RFC 7515 §7.1) itself around the
// standard library's crypto: the protected header depends only on the
// key and typ, so it is encoded once per key and typ and reused, and the
// token is assembled in one buffer. go-jose does the same steps with a
// JSON round trip of the header and several copies per token, which cost
// about a fifth as much as the ES256 signature itself. Verification
// stays with go-jose (verify.go).

// jwsHeader is the protected header: alg, kid and, when not empty, typ; the
// same members, in the same order, as go-jose writes.
type jwsHeader struct {
	Alg string `json:"alg"`
	KID string `json:"kid"`
	Typ string `json:"typ,omitempty"`
}

// encodedHeader returns the base64url protected header for typ, encoded
// on first use.
func (k *signingKey) encodedHeader(typ string) (string, error) {
	if h, ok := k.headers.Load(typ); ok {
		return h.(string), nil
	}
	b, err := json.Marshal(jwsHeader{Alg: k.alg, KID: k.kid, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	h := base64.RawURLEncoding.EncodeToString(b)
	k.headers.Store(typ, h)
	return h, nil
}

// sign returns the compact JWS of payload with typ.
func (k *signingKey) sign(payload []byte, typ string) (string, error) {
	h, err := k.encodedHeader(typ)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, len(h)+1+enc.EncodedLen(len(payload)))
	input = append(input, h...)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)
	sig, err := k.signature(input)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.kid, err)
	}
	var tok strings.Builder
	tok.Grow(len(input) + 1 + enc.EncodedLen(len(sig)))
	tok.Write(input)
	tok.WriteByte('.')
	var buf [128]byte // an ES256 or EdDSA signature, encoded; RS256 ones take the heap
	tok.Write(enc.AppendEncode(buf[:0], sig))
	return tok.String(), nil
}

// es256Len is the length of an ES256 signature: R and S, each as 32
// big-endian bytes, zero-padded (RFC 7518 §3.4), not ASN.1.
const es256Len = 64

// signature signs the JWS signing input with the key's algorithm
// (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
func (k *signingKey) signature(input []byte) ([]byte, error) {
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		if k.alg != ES256 {
			break
		}
		digest := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, p, digest[:])
		if err != nil {
			return nil, err
		}
		sig := make([]byte, es256Len)
		r.FillBytes(sig[:es256Len/2])
		s.FillBytes(sig[es256Len/2:])
		return sig, nil
	case ed25519.PrivateKey:
		if k.alg != EdDSA {
			break
		}
		return ed25519.Sign(p, input), nil
	case *rsa.PrivateKey:
		if k.alg != RS256 {
			break
		}
		digest := sha256.Sum256(input)
		return rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, digest[:])
	}
	return nil, fmt.Errorf("a %T cannot sign %s", k.priv, k.alg)
}
