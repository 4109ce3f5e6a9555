package gateway

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/tokend/tokend/internal/ttlcache"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/tokenauth"
)

// IdentityConfig configures the identity JWT the gateway passes upstream
// in api.HeaderIdentity beside the identity headers.
type IdentityConfig struct {
	// Key signs the JWTs: an ECDSA P-256 key (ES256) or an Ed25519 key
	// (EdDSA), as ParseIdentityKey reads it. Required.
	Key crypto.Signer
	// Issuer is the iss of every JWT, which the upstream checks; default
	// "tokend-gateway".
	Issuer string
	// TTL is how long a JWT is valid after the gateway makes it: default
	// one minute, at most an hour. The gateway reuses a JWT for further
	// requests of the same caller to the same audience during the first
	// half of its life, so that every JWT an upstream receives has at
	// least half of TTL left.
	TTL time.Duration
}

// Identity signs identity JWTs and publishes their key. Make it with
// NewIdentity; it is safe for concurrent use.
type Identity struct {
	signer jose.Signer
	jwks   []byte // the JSON Web Key Set of the public key
	issuer string
	ttl    time.Duration
	made   *ttlcache.Cache[string, string]
}

// NewIdentity returns an Identity for cfg. The key id is the key's RFC
// 7638 thumbprint, so that the same key file always publishes the same
// kid, on every gateway that shares it.
func NewIdentity(cfg IdentityConfig) (*Identity, error) {
	var alg jose.SignatureAlgorithm
	switch k := cfg.Key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("gateway: the identity key must be ECDSA P-256 or Ed25519")
		}
		alg = jose.ES256
	case ed25519.PrivateKey:
		alg = jose.EdDSA
	default:
		return nil, errors.New("gateway: the identity key must be ECDSA P-256 or Ed25519")
	}
	switch {
	case cfg.TTL == 0:
		cfg.TTL = time.Minute
	case cfg.TTL < time.Second || cfg.TTL > time.Hour:
		return nil, errors.New("gateway: the identity JWT lifetime must be between 1s and 1h")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "tokend-gateway"
	}
	pub := jose.JSONWebKey{Key: cfg.Key.Public(), Algorithm: string(alg), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("gateway: identity key thumbprint: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: cfg.Key, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType(api.IdentityJWTType))
	if err != nil {
		return nil, fmt.Errorf("gateway: identity signer: %w", err)
	}
	return &Identity{signer: signer, jwks: jwks, issuer: cfg.Issuer, ttl: cfg.TTL, made: ttlcache.New[string, string](jwtCacheSize)}, nil
}

// ParseIdentityKey reads a PEM private key: PKCS #8 ("PRIVATE KEY", as
// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or
// `-algorithm ed25519` write it) or SEC 1 ("EC PRIVATE KEY").
func ParseIdentityKey(pemBytes []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("gateway: the identity key file holds no PEM block")
	}
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("gateway: the identity key file holds a %q block, not a private key", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: the identity key does not parse: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("gateway: the identity key must be ECDSA P-256 or Ed25519")
	}
	return s, nil
}

// token returns the identity JWT of p for a request to a route of
// audience at now: the one made for the same claims within the last half
// TTL, or a new one. Signing is most of the gateway's cost per request;
// the token itself was checked for this request all the same.
func (id *Identity) token(p *tokenauth.Principal, audience string, now time.Time) (string, error) {
	k := identityKey(p, audience)
	if jwt, ok := id.made.Get(k, now); ok {
		return jwt, nil
	}
	jwt, err := id.sign(p, audience, now)
	if err != nil {
		return "", err
	}
	id.made.Put(k, jwt, now.Add(id.ttl/2), now)
	return jwt, nil
}

// identityKey is every input of an identity JWT but the time: requests
// with the same key may share a JWT.
func identityKey(p *tokenauth.Principal, audience string) string {
	return strings.Join([]string{audience, p.Subject, p.TokenID, p.Kind, strings.Join(p.Scopes, " "), p.ClientID, p.APIID}, "\x00")
}

// sign makes a new identity JWT of p for audience at now.
func (id *Identity) sign(p *tokenauth.Principal, audience string, now time.Time) (string, error) {
	c := api.IdentityClaims{Issuer: id.issuer, Subject: p.Subject, Audience: audience,
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(id.ttl).Unix(), ID: rand.Text(),
		TokenID: p.TokenID, TokenKind: p.Kind, Scope: strings.Join(p.Scopes, " "), ClientID: p.ClientID, APIID: p.APIID}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := id.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign identity jwt: %w", err)
	}
	return jws.CompactSerialize()
}

// serveJWKS answers GET api.IdentityJWKSPath: public keys only, which any
// upstream may fetch and cache for five minutes.
func (id *Identity) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, "the identity JWKS is read with GET")
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(id.jwks)
}

// jwtCacheSize bounds the identity JWTs kept for reuse: one per active
// caller and audience.
const jwtCacheSize = 10000
