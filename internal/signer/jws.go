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
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
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

// sign returns the compact JWS of payload with typ. The signing input is
// assembled on the stack when it fits, and the token is the one
// allocation outside the signature algorithm.
func (k *signingKey) sign(payload []byte, typ string) (string, error) {
	h, err := k.encodedHeader(typ)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	var inBuf [1024]byte
	input := append(inBuf[:0], h...)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)
	var sigBuf [es256Len]byte // ES256 and EdDSA fit; RS256 takes the heap
	sig, err := k.signature(sigBuf[:0], input)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.kid, err)
	}
	var tok strings.Builder
	tok.Grow(len(input) + 1 + enc.EncodedLen(len(sig)))
	tok.Write(input)
	tok.WriteByte('.')
	var b64 [128]byte
	tok.Write(enc.AppendEncode(b64[:0], sig))
	return tok.String(), nil
}

// es256Len is the length of an ES256 signature: R and S, each as 32
// big-endian bytes, zero-padded (RFC 7518 §3.4), not ASN.1.
const es256Len = 64

// signature appends to dst the signature of the JWS signing input with
// the key's algorithm (RFC 7518 §3.3, §3.4; RFC 8037 §3.1).
func (k *signingKey) signature(dst, input []byte) ([]byte, error) {
	switch p := k.priv.(type) {
	case *ecdsa.PrivateKey:
		if k.alg != ES256 {
			break
		}
		// Deterministic ECDSA (RFC 6979): the nonce is derived from the
		// key and the digest, as Ed25519's is, instead of mixed with fresh
		// randomness, which costs a SHA-512 HMAC-DRBG per token. Each token
		// signed here carries a fresh random jti, so no two inputs repeat.
		digest := sha256.Sum256(input)
		der, err := p.Sign(nil, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return appendFixedRS(dst, der, es256Len/2)
	case ed25519.PrivateKey:
		if k.alg != EdDSA {
			break
		}
		return append(dst, ed25519.Sign(p, input)...), nil
	case *rsa.PrivateKey:
		if k.alg != RS256 {
			break
		}
		digest := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, p, crypto.SHA256, digest[:])
		return append(dst, sig...), err
	}
	return nil, fmt.Errorf("a %T cannot sign %s", k.priv, k.alg)
}

// appendFixedRS turns the ASN.1 ECDSA signature crypto/ecdsa makes
// (SEQUENCE { r INTEGER, s INTEGER }) into JWS form: r and s as size
// big-endian bytes each, zero-padded (RFC 7518 §3.4). Reading the two
// integers as bytes, rather than through ecdsa.Sign's big.Ints, is the
// same signature without their allocations.
func appendFixedRS(dst, der []byte, size int) ([]byte, error) {
	var inner cryptobyte.String
	var r, s []byte
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() ||
		len(r) > size || len(s) > size {
		return nil, errors.New("crypto/ecdsa made a signature that is not ASN.1 r and s")
	}
	for _, v := range [2][]byte{r, s} {
		for range size - len(v) {
			dst = append(dst, 0)
		}
		dst = append(dst, v...)
	}
	return dst, nil
}
