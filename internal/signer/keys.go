package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/internal/store"
)

// The signing algorithms tokend creates keys for. Verify accepts these
// and nothing else: never "none", never an HMAC.
const (
	ES256 = string(jose.ES256)
	EdDSA = string(jose.EdDSA)
	RS256 = string(jose.RS256)
)

// Algorithms lists the accepted algorithms, the default first.
var Algorithms = []string{ES256, EdDSA, RS256}

var joseAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256}

// rsaBits is the modulus size of new RS256 keys.
const rsaBits = 2048

// generate returns a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	}
	return nil, fmt.Errorf("unsupported signing algorithm %q (want one of %v)", alg, Algorithms)
}

// checkKeyType reports whether key (public or private) is the type alg
// needs, so that a key can never be used with another algorithm.
func checkKeyType(alg string, key any) error {
	ok := false
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		ok = alg == ES256 && k.Curve == elliptic.P256()
	case *ecdsa.PublicKey:
		ok = alg == ES256 && k.Curve == elliptic.P256()
	case ed25519.PrivateKey, ed25519.PublicKey:
		ok = alg == EdDSA
	case *rsa.PrivateKey:
		ok = alg == RS256 && k.N.BitLen() >= rsaBits
	case *rsa.PublicKey:
		ok = alg == RS256 && k.N.BitLen() >= rsaBits
	}
	if !ok {
		return fmt.Errorf("a %T is not a %s key", key, alg)
	}
	return nil
}

// newStoredKey generates a key for alg, sealed under kek, created at now
// and active from activeAt. The kid is the key's RFC 7638 thumbprint.
func newStoredKey(kek []byte, alg string, now, activeAt time.Time) (store.SigningKey, error) {
	priv, err := generate(alg)
	if err != nil {
		return store.SigningKey{}, err
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode private key: %w", err)
	}
	sealed, err := sealKey(kek, pub.KeyID, der)
	clear(der)
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{KID: pub.KeyID, Alg: alg, PublicJWK: pubJSON, Sealed: sealed,
		CreatedAt: now, ActiveAt: activeAt}, nil
}

// publicKey decodes and checks the public half of a stored key.
func publicKey(k store.SigningKey) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(k.PublicJWK, &jwk); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: public key: %w", k.KID, err)
	}
	if !jwk.IsPublic() || jwk.KeyID != k.KID || jwk.Algorithm != k.Alg {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: stored public key does not match its row", k.KID)
	}
	if err := checkKeyType(k.Alg, jwk.Key); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	return jwk, nil
}

// privateKey decrypts the private half of a stored key and checks that it
// matches the public half.
func privateKey(kek []byte, k store.SigningKey, pub jose.JSONWebKey) (crypto.Signer, error) {
	der, err := openKey(kek, k.KID, k.Sealed)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	raw, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: private key: %w", k.KID, err)
	}
	priv, ok := raw.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: %T is not a signing key", k.KID, raw)
	}
	if err := checkKeyType(k.Alg, priv); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := priv.Public().(equaler); !ok || !e.Equal(pub.Key) {
		return nil, fmt.Errorf("signing key %s: private key does not match the published key", k.KID)
	}
	return priv, nil
}
