package dpop

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Typ is the typ header of every DPoP proof (RFC 9449 §4.2).
const Typ = "dpop+jwt"

// MaxProofLen bounds the proofs Check parses.
const MaxProofLen = 8 << 10

// SupportedAlgs are the proof algorithms tokend accepts: asymmetric
// only (RFC 9449 §4.2), so never none or HS*. It is also the value of
// dpop_signing_alg_values_supported and of the algs challenge parameter.
// Ed25519 is the fully-specified name of EdDSA with an Ed25519 key (RFC
// 9864), which clients such as panva's npm dpop package send; both name
// the same signature.
var SupportedAlgs = []string{"ES256", "EdDSA", "Ed25519", "RS256", "PS256"}

// algEd25519 is RFC 9864's name for EdDSA over Ed25519, which go-jose
// does not know: Check verifies it itself.
const algEd25519 = "Ed25519"

// Config configures a Checker. Every field is optional.
type Config struct {
	// Algs narrows SupportedAlgs; nil means all of them.
	Algs []string
	// MaxAge is how old a proof's iat may be; default 2 minutes.
	MaxAge time.Duration
	// Skew is how far in the future iat may be, for clocks that run
	// ahead; default 30 seconds.
	Skew time.Duration
	// Replay remembers the proofs seen; nil means an in-process
	// MemoryReplay of DefaultReplayMax entries. Nodes that share tokens
	// must share it.
	Replay ReplayCache
	// Nonces, when set, makes a server nonce required (RFC 9449 §8): a
	// proof without a valid one fails with CodeUseNonce and a fresh
	// nonce.
	Nonces *Nonces
	Now    func() time.Time
}

// Checker checks DPoP proofs. It is safe for concurrent use.
type Checker struct {
	algs   []jose.SignatureAlgorithm
	names  []string
	maxAge time.Duration
	skew   time.Duration
	replay ReplayCache
	nonces *Nonces
	now    func() time.Time
}

// New returns a Checker with cfg's settings and their defaults.
func New(cfg Config) *Checker {
	c := &Checker{maxAge: cfg.MaxAge, skew: cfg.Skew, replay: cfg.Replay, nonces: cfg.Nonces, now: cfg.Now}
	if c.maxAge <= 0 {
		c.maxAge = 2 * time.Minute
	}
	if c.skew <= 0 {
		c.skew = 30 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.names = SupportedAlgs
	if cfg.Algs != nil {
		c.names = nil
		for _, a := range cfg.Algs {
			if slices.Contains(SupportedAlgs, a) {
				c.names = append(c.names, a)
			}
		}
	}
	for _, a := range c.names {
		c.algs = append(c.algs, jose.SignatureAlgorithm(a))
	}
	if c.replay == nil {
		c.replay = NewMemoryReplay(DefaultReplayMax, c.maxAge+c.skew, c.now)
	}
	return c
}

// Algs returns the algorithms the Checker accepts, for
// dpop_signing_alg_values_supported and WWW-Authenticate challenges.
func (c *Checker) Algs() []string { return slices.Clone(c.names) }

// Nonce returns a nonce to send in DPoP-Nonce, or "" when nonces are off.
func (c *Checker) Nonce() string {
	if c.nonces == nil {
		return ""
	}
	return c.nonces.Current()
}

// Request is the HTTP request a proof must match.
type Request struct {
	// Method is the request's method (htm).
	Method string
	// URL is the request's absolute URL as the client addressed it (htu):
	// behind a proxy, the public URL, not the one the server saw. Query
	// and fragment are ignored.
	URL string
	// AccessToken is the token presented with the proof, whose hash the
	// proof must carry in ath; "" at the token endpoint, where none is.
	AccessToken string
}

// Proof is a checked proof: JKT is the RFC 7638 SHA-256 thumbprint of
// its key, to which tokens are bound (cnf.jkt).
type Proof struct {
	JKT      string
	ID       string
	IssuedAt time.Time
}

// header is the proof's JOSE header as Check reads it before go-jose:
// to refuse a private jwk and a wrong typ with clear errors.
type header struct {
	Typ string                         `json:"typ"`
	Alg string                         `json:"alg"`
	JWK map[string]josejson.RawMessage `json:"jwk"`
}

type claims struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce"`
}

// privateMembers are the JWK members that carry private or symmetric
// key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Check checks proof, the value of the request's one DPoP header, against
// r, in the order of RFC 9449 §4.3, and returns the proof's key
// thumbprint. A refused proof is an *Error; a failing replay cache is
// another error, which the caller answers as its own fault.
func (c *Checker) Check(ctx context.Context, proof string, r Request) (Proof, error) {
	if proof == "" {
		return Proof{}, invalid("a DPoP proof is required")
	}
	if len(proof) > MaxProofLen || strings.Count(proof, ".") != 2 {
		return Proof{}, invalid("the DPoP proof is not a compact JWT")
	}
	h, err := c.checkHeader(proof)
	if err != nil {
		return Proof{}, err
	}
	jws, err := jose.ParseSignedCompact(proof, c.algs)
	if err != nil || len(jws.Signatures) != 1 || jws.Signatures[0].Header.JSONWebKey == nil {
		return Proof{}, invalid("the DPoP proof is not a well-formed JWS with a jwk header")
	}
	jwk := jws.Signatures[0].Header.JSONWebKey
	if err := checkKey(jwk, h.Alg); err != nil {
		return Proof{}, err
	}
	payload, err := verify(jws, jwk, h.Alg, proof)
	if err != nil {
		return Proof{}, invalid("the DPoP proof's signature does not verify with its jwk")
	}
	var cl claims
	if err := josejson.Unmarshal(payload, &cl); err != nil {
		return Proof{}, invalid("the DPoP proof's claims are not a JSON object of the right types")
	}
	if err := c.checkClaims(cl, r); err != nil {
		return Proof{}, err
	}
	jkt, err := Thumbprint(jwk)
	if err != nil {
		return Proof{}, invalid("the DPoP proof's jwk has no thumbprint")
	}
	iat := time.Unix(int64(*cl.IAT), 0)
	if err := c.use(ctx, jkt, cl.JTI, iat); err != nil {
		return Proof{}, err
	}
	return Proof{JKT: jkt, ID: cl.JTI, IssuedAt: iat}, nil
}

// checkHeader decodes the header strictly and checks typ, alg and that
// jwk holds no private key.
func (c *Checker) checkHeader(proof string) (header, error) {
	var h header
	b, err := base64.RawURLEncoding.Strict().DecodeString(proof[:strings.IndexByte(proof, '.')])
	if err != nil || josejson.Unmarshal(b, &h) != nil {
		return h, invalid("the DPoP proof's header is not base64url JSON")
	}
	switch {
	case h.Typ != Typ:
		return h, invalid("the DPoP proof's typ must be dpop+jwt")
	case h.Alg == "none" || strings.HasPrefix(h.Alg, "HS"):
		return h, invalid("the DPoP proof must be signed with an asymmetric algorithm, not " + safe(h.Alg))
	case !slices.Contains(c.names, h.Alg):
		return h, invalid("the DPoP proof's alg must be one of " + strings.Join(c.names, ", "))
	case h.JWK == nil:
		return h, invalid("the DPoP proof's header must carry the public key in jwk")
	}
	for _, m := range privateMembers {
		if _, ok := h.JWK[m]; ok {
			return h, invalid("the DPoP proof's jwk must be a public key; it holds private key material")
		}
	}
	return h, nil
}

// checkKey refuses a key that does not suit alg, and RSA keys under
// 2048 bits.
func checkKey(k *jose.JSONWebKey, alg string) error {
	ok := false
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		ok = alg == "ES256" && pub.Curve.Params().Name == "P-256"
	case ed25519.PublicKey:
		ok = alg == "EdDSA" || alg == algEd25519
	case *rsa.PublicKey:
		ok = (alg == "RS256" || alg == "PS256") && pub.N.BitLen() >= 2048
	}
	if !ok {
		return invalid("the DPoP proof's jwk does not suit its alg " + alg + " (RSA keys need 2048 bits)")
	}
	return nil
}

// verify checks the proof's signature with jwk and returns its payload.
// go-jose verifies every alg but Ed25519, which is EdDSA under its RFC
// 9864 name: the same Ed25519 signature over the JWS signing input.
func verify(jws *jose.JSONWebSignature, jwk *jose.JSONWebKey, alg, proof string) ([]byte, error) {
	if alg != algEd25519 {
		return jws.Verify(jwk)
	}
	pub, _ := jwk.Key.(ed25519.PublicKey) // checkKey made sure
	cut := strings.LastIndexByte(proof, '.')
	sig, err := base64.RawURLEncoding.Strict().DecodeString(proof[cut+1:])
	if err != nil || !ed25519.Verify(pub, []byte(proof[:cut]), sig) {
		return nil, errors.New("bad signature")
	}
	return jws.UnsafePayloadWithoutVerification(), nil
}

func (c *Checker) checkClaims(cl claims, r Request) error {
	now := c.now()
	switch {
	case cl.JTI == "" || cl.HTM == "" || cl.HTU == "" || cl.IAT == nil:
		return invalid("the DPoP proof must carry jti, htm, htu and iat")
	case len(cl.JTI) > 256:
		return invalid("the DPoP proof's jti is too long")
	case cl.HTM != r.Method:
		return invalid("the DPoP proof's htm does not match the request method")
	case !SameURI(cl.HTU, r.URL):
		return invalid("the DPoP proof's htu does not match the request URL")
	}
	iat := time.Unix(int64(*cl.IAT), 0)
	switch {
	case iat.Before(now.Add(-c.maxAge)):
		return invalid(fmt.Sprintf("the DPoP proof's iat is more than %s old", c.maxAge))
	case iat.After(now.Add(c.skew)):
		return invalid("the DPoP proof's iat is in the future")
	}
	if c.nonces != nil && !c.nonces.Valid(cl.Nonce) {
		desc := "this server requires a DPoP nonce; use the one in DPoP-Nonce"
		if cl.Nonce != "" {
			desc = "the DPoP nonce is stale or unknown; use the one in DPoP-Nonce"
		}
		return &Error{Code: CodeUseNonce, Description: desc, Nonce: c.nonces.Current()}
	}
	if r.AccessToken != "" {
		want := AccessTokenHash(r.AccessToken)
		if cl.ATH == "" {
			return invalid("the DPoP proof must carry ath, the hash of the access token")
		}
		if subtle.ConstantTimeCompare([]byte(cl.ATH), []byte(want)) != 1 {
			return invalid("the DPoP proof's ath does not match the access token")
		}
	}
	return nil
}

// use records the proof's jti in the replay cache, keyed by the key's
// thumbprint and the jti, until the proof's iat leaves the window.
func (c *Checker) use(ctx context.Context, jkt, jti string, iat time.Time) error {
	sum := sha256.Sum256([]byte(jkt + "\x00" + jti))
	ttl := iat.Add(c.maxAge).Sub(c.now())
	if ttl < time.Second {
		ttl = time.Second
	}
	fresh, err := c.replay.UseOnce(ctx, string(sum[:16]), ttl+c.skew)
	if err != nil {
		return fmt.Errorf("dpop replay cache: %w", err)
	}
	if !fresh {
		return invalid("the DPoP proof was already used (jti seen before)")
	}
	return nil
}

// AccessTokenHash is the ath of a proof presented with token (RFC 9449
// §4.2): the base64url SHA-256 of its ASCII bytes.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// safe quotes an attacker-chosen value for an error description: short,
// and only characters that cannot carry markup or a secret's shape.
func safe(s string) string {
	if len(s) > 16 {
		s = s[:16]
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '?'
	}, s) + "\""
}
