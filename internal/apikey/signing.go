package apikey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// SigningSecretSize is the length of a key's hmac-sha256 signing secret.
const SigningSecretSize = 32

// ErrNoKEK means the service has no key-encryption key to seal an HMAC
// signing secret under.
var ErrNoKEK = errors.New("no key-encryption key is configured for signing secrets")

// signingAD is the additional data an HMAC signing secret is sealed
// with: the key's ID, so that a sealed secret cannot be moved to
// another key's row.
func signingAD(keyID string) string { return "key-signing:" + keyID }

// settleSigning validates req (nil: none) under a's policy and sets k's
// signing key. For hmac-sha256 it returns the new secret, sealed into k
// and shown nowhere else.
func (s *Service) settleSigning(k *store.Key, a store.API, req *api.KeySigningRequest) ([]byte, error) {
	if req == nil {
		if a.Policy.RequireSignedRequests {
			return nil, valid.Errorf("signing", "the API's policy requires signed requests: give the key a signing key")
		}
		return nil, nil
	}
	switch req.Alg {
	case api.SigHMACSHA256:
		if req.PublicKey != "" || len(req.PublicJWK) > 0 {
			return nil, valid.Errorf("signing.public_key", "hmac-sha256 takes no public key: tokend makes the secret")
		}
		if len(s.kek) == 0 {
			return nil, ErrNoKEK
		}
		secret := make([]byte, SigningSecretSize)
		rand.Read(secret)
		sealed, err := seal.Seal(s.kek, signingAD(k.ID), secret)
		if err != nil {
			return nil, err
		}
		k.SigningAlg, k.SigningKey = req.Alg, sealed
		return secret, nil
	case api.SigEd25519, api.SigECDSAP256:
		pub, err := parsePublicKey(req)
		if err != nil {
			return nil, err
		}
		if err := checkPublicAlg(req.Alg, pub); err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, valid.Errorf("signing.public_key", "cannot be encoded: %v", err)
		}
		k.SigningAlg, k.SigningKey = req.Alg, der
		return nil, nil
	}
	return nil, valid.Errorf("signing.alg", "must be %s, %s or %s", api.SigHMACSHA256, api.SigEd25519, api.SigECDSAP256)
}

// parsePublicKey reads the PEM (PKIX "PUBLIC KEY") or the JWK of req.
func parsePublicKey(req *api.KeySigningRequest) (crypto.PublicKey, error) {
	switch {
	case req.PublicKey != "" && len(req.PublicJWK) > 0:
		return nil, valid.Errorf("signing.public_key", "give public_key (PEM) or public_jwk, not both")
	case req.PublicKey != "":
		b, _ := pem.Decode([]byte(strings.TrimSpace(req.PublicKey)))
		if b == nil || b.Type != "PUBLIC KEY" {
			return nil, valid.Errorf("signing.public_key", "must be a PEM block of type PUBLIC KEY (PKIX)")
		}
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, valid.Errorf("signing.public_key", "is not a PKIX public key")
		}
		return pub, nil
	case len(req.PublicJWK) > 0:
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(req.PublicJWK, &jwk); err != nil {
			return nil, valid.Errorf("signing.public_jwk", "is not a JWK: %v", err)
		}
		if !jwk.IsPublic() {
			return nil, valid.Errorf("signing.public_jwk", "must be a public key, not a private one")
		}
		return jwk.Key, nil
	}
	return nil, valid.Errorf("signing.public_key", "is required for %s (PEM in public_key, or public_jwk)", req.Alg)
}

// checkPublicAlg checks that pub is a key of alg.
func checkPublicAlg(alg string, pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if alg == api.SigEd25519 {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == api.SigECDSAP256 && p.Curve == elliptic.P256() {
			return nil
		}
	}
	return valid.Errorf("signing.public_key", "is not a key of %s", alg)
}

// SigningKey returns k's request-signing key in the form httpsig checks
// with, opening an HMAC secret under kek. ok is false when k has none.
func SigningKey(kek []byte, k store.Key) (key httpsig.Key, ok bool, err error) {
	if k.SigningAlg == "" {
		return httpsig.Key{}, false, nil
	}
	key = httpsig.Key{ID: k.ID, Alg: k.SigningAlg}
	switch k.SigningAlg {
	case api.SigHMACSHA256:
		if len(kek) == 0 {
			return httpsig.Key{}, false, ErrNoKEK
		}
		if key.Secret, err = seal.Open(kek, signingAD(k.ID), k.SigningKey); err != nil {
			return httpsig.Key{}, false, fmt.Errorf("key %s signing secret: %w", k.ID, err)
		}
	default:
		if key.Public, err = x509.ParsePKIXPublicKey(k.SigningKey); err != nil {
			return httpsig.Key{}, false, fmt.Errorf("key %s signing public key: %w", k.ID, err)
		}
	}
	return key, true, nil
}

// signingView is the wire form of k's signing key: the algorithm, and
// the public key as PEM; never an HMAC secret.
func signingView(k store.Key) *api.KeySigning {
	if k.SigningAlg == "" {
		return nil
	}
	v := &api.KeySigning{Alg: k.SigningAlg}
	if k.SigningAlg != api.SigHMACSHA256 {
		v.PublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.SigningKey}))
	}
	return v
}
