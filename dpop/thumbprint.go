package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of k's public
// key, base64url-encoded: the jkt of RFC 9449 §6.
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	pub := k.Public()
	b, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PublicKeyThumbprint parses jwk, one public JWK in JSON of a type a
// proof may use (P-256, Ed25519, RSA of 2048 bits or more), and returns
// its thumbprint. A private key is refused: a client registers only its
// public key.
func PublicKeyThumbprint(jwk []byte) (string, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(jwk); err != nil {
		return "", errors.New("not a JSON Web Key")
	}
	if !k.IsPublic() {
		return "", errors.New("a private key: give the public key only")
	}
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve.Params().Name != "P-256" {
			return "", errors.New("an EC key must be on P-256 (ES256)")
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return "", errors.New("an RSA key needs at least 2048 bits")
		}
	default:
		return "", errors.New("the key must be EC P-256, Ed25519 or RSA")
	}
	return Thumbprint(&k)
}

// ValidThumbprint reports whether s has the shape of a SHA-256 JWK
// thumbprint: 43 base64url characters.
func ValidThumbprint(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}
