package signer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/internal/credential"
)

// MaxTokenLen bounds the tokens Verify parses.
const MaxTokenLen = credential.MaxJWTLen

// ClockSkew is how early, before its activation, a key's signatures are
// accepted: another node's clock may run this much ahead of this one's.
const ClockSkew = 30 * time.Second

// Verify returns the payload of token if tokend signed it: the token is a
// compact JWS of base64url characters only; its protected header holds only alg, kid and typ; alg is
// one of Algorithms (never "none", never an HMAC); kid names a published
// key whose algorithm is alg; the signature verifies with that key; and
// typ equals typ, ignoring case and an "application/" prefix (RFC 8725
// §3.11). It returns an error wrapping ErrMalformed, ErrUnknownKey,
// ErrBadSignature or ErrWrongType otherwise. Claims (iss, aud, exp, nbf)
// are the caller's to check. It touches no database.
func (s *Signer) Verify(token string, typ string) ([]byte, error) {
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Algorithms, h.Alg) {
		return nil, fmt.Errorf("%w: algorithm %q is not accepted", ErrBadSignature, h.Alg)
	}
	now := s.now()
	k := s.ring.Load().byKID[h.Kid]
	if k == nil || !k.publishedAt(now) {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, h.Kid)
	}
	if k.activeAt.After(now.Add(ClockSkew)) {
		return nil, fmt.Errorf("%w: key %s is not active until %s", ErrUnknownKey, k.kid, k.activeAt.Format(time.RFC3339))
	}
	if h.Alg != k.alg {
		return nil, fmt.Errorf("%w: key %s is for %s, not %s", ErrBadSignature, k.kid, k.alg, h.Alg)
	}
	jws, err := jose.ParseSignedCompact(token, joseAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 || jws.Signatures[0].Protected.Algorithm != h.Alg || jws.Signatures[0].Protected.KeyID != h.Kid {
		return nil, fmt.Errorf("%w: header parsed inconsistently", ErrMalformed)
	}
	payload, err := jws.Verify(k.jwk.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !sameType(h.Typ, typ) {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrWrongType, h.Typ, typ)
	}
	return payload, nil
}

// header is the protected header of a tokend JWS.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// parseHeader checks the shape of a compact JWS (three canonical base64url
// parts, no byte outside the base64url alphabet) and decodes its header,
// which must hold only alg, kid and typ: tokend never sets another, and
// refusing the rest rules out embedded keys (jwk, x5c, jku), unencoded
// payloads (b64) and crit extensions.
func parseHeader(token string) (header, error) {
	h64, p64, s64, err := credential.SplitJWS(token)
	if err != nil {
		return header{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var raw []byte
	for i, p := range [3]string{h64, p64, s64} {
		b, err := credential.DecodePart(p)
		if err != nil {
			return header{}, fmt.Errorf("%w: part %d is not canonical base64url", ErrMalformed, i+1)
		}
		if i == 0 {
			raw = b
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return header{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	for name := range fields {
		if name != "alg" && name != "kid" && name != "typ" {
			return header{}, fmt.Errorf("%w: header parameter %q is not accepted", ErrMalformed, name)
		}
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil || h.Alg == "" || h.Kid == "" {
		return header{}, fmt.Errorf("%w: header needs string alg and kid", ErrMalformed)
	}
	return h, nil
}

// sameType compares typ header values as RFC 7515 §4.1.9 says: without
// case, with "application/" optional.
func sameType(got, want string) bool {
	trim := func(s string) string {
		if len(s) > 12 && strings.EqualFold(s[:12], "application/") {
			return s[12:]
		}
		return s
	}
	return want != "" && strings.EqualFold(trim(got), trim(want))
}
