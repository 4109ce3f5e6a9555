package httpsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
)

// The algorithms of the RFC 9421 registry that tokend supports.
const (
	AlgHMACSHA256 = "hmac-sha256"
	AlgEd25519    = "ed25519"
	AlgECDSAP256  = "ecdsa-p256-sha256"
)

// Key is what verifies (and, with Secret or Private, makes) a signature.
type Key struct {
	// ID is the keyid a signature names; for tokend, the API key's ID.
	ID string
	// Alg is one of the Alg constants.
	Alg string
	// Secret is the shared secret of hmac-sha256.
	Secret []byte
	// Public is an ed25519.PublicKey or an *ecdsa.PublicKey on P-256.
	Public crypto.PublicKey
	// Private, for signing only, is an ed25519.PrivateKey or an
	// *ecdsa.PrivateKey on P-256.
	Private crypto.PrivateKey
}

// check reports whether sig is k's signature of msg, in constant time for
// HMAC.
func (k *Key) check(msg, sig []byte) bool {
	switch k.Alg {
	case AlgHMACSHA256:
		if len(k.Secret) == 0 {
			return false
		}
		m := hmac.New(sha256.New, k.Secret)
		m.Write(msg)
		return hmac.Equal(m.Sum(nil), sig)
	case AlgEd25519:
		pub, ok := k.Public.(ed25519.PublicKey)
		return ok && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
	case AlgECDSAP256:
		pub, ok := k.Public.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || len(sig) != 64 {
			return false
		}
		h := sha256.Sum256(msg)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, h[:], r, s)
	}
	return false
}

// sign returns k's signature of msg.
func (k *Key) sign(msg []byte) ([]byte, error) {
	switch k.Alg {
	case AlgHMACSHA256:
		if len(k.Secret) == 0 {
			break
		}
		m := hmac.New(sha256.New, k.Secret)
		m.Write(msg)
		return m.Sum(nil), nil
	case AlgEd25519:
		if priv, ok := k.Private.(ed25519.PrivateKey); ok {
			return ed25519.Sign(priv, msg), nil
		}
	case AlgECDSAP256:
		priv, ok := k.Private.(*ecdsa.PrivateKey)
		if !ok {
			break
		}
		h := sha256.Sum256(msg)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	}
	return nil, Errorf(ReasonKey, "key %q cannot sign with %q", k.ID, k.Alg)
}

// KnownAlg reports whether alg is one of the supported algorithms.
func KnownAlg(alg string) bool {
	return alg == AlgHMACSHA256 || alg == AlgEd25519 || alg == AlgECDSAP256
}
