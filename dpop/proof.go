package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a client's DPoP key: it makes proofs. Safe for concurrent use.
type Key struct {
	// Now is the clock of the proofs' iat; nil means time.Now.
	Now    func() time.Time
	signer jose.Signer
	jwk    jose.JSONWebKey
	alg    string
}

// NewKey returns a Key for priv, an *ecdsa.PrivateKey on P-256 (ES256),
// an ed25519.PrivateKey (EdDSA) or an *rsa.PrivateKey (PS256).
func NewKey(priv crypto.Signer) (*Key, error) {
	var alg jose.SignatureAlgorithm
	switch priv.(type) {
	case *ecdsa.PrivateKey:
		alg = jose.ES256
	case ed25519.PrivateKey:
		alg = jose.EdDSA
	case *rsa.PrivateKey:
		alg = jose.PS256
	default:
		return nil, errors.New("dpop: the key must be ECDSA P-256, Ed25519 or RSA")
	}
	return newKey(priv, alg)
}

func newKey(priv crypto.Signer, alg jose.SignatureAlgorithm) (*Key, error) {
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(Typ)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv}, opts)
	if err != nil {
		return nil, err
	}
	return &Key{signer: s, jwk: jose.JSONWebKey{Key: priv.Public()}, alg: string(alg)}, nil
}

// JKT returns the key's thumbprint, to which tokens are bound.
func (k *Key) JKT() string {
	t, _ := Thumbprint(&k.jwk)
	return t
}

// PublicJWK returns the public key as a JWK in JSON.
func (k *Key) PublicJWK() []byte {
	b, _ := k.jwk.MarshalJSON()
	return b
}

// Proof makes a proof for a request of method to url; accessToken, when
// not "", sets ath, and nonce, when not "", the server nonce.
func (k *Key) Proof(method, url, accessToken, nonce string) (string, error) {
	now := time.Now
	if k.Now != nil {
		now = k.Now
	}
	c := map[string]any{"jti": rand.Text(), "htm": method, "htu": url, "iat": now().Unix()}
	if accessToken != "" {
		c["ath"] = AccessTokenHash(accessToken)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(b)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}
