package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"

	"github.com/dunglas/httpsfv"
)

// Digest returns a Content-Digest field value (RFC 9530) for body, with
// the sha-256 algorithm.
func Digest(body []byte) string {
	h := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(h[:]) + ":"
}

// CheckDigest recomputes the digest of body and compares it with every
// sha-256 and sha-512 member of the request's Content-Digest field; other
// algorithms are ignored, and at least one known member must be there.
// A mismatch is an *Error of ReasonDigest.
func CheckDigest(m *Message, body []byte) error {
	vals, ok := m.field("Content-Digest")
	if !ok {
		return Errorf(ReasonCoverage, "the request has a body but no Content-Digest field")
	}
	d, err := httpsfv.UnmarshalDictionary(vals)
	if err != nil {
		return Errorf(ReasonMalformed, "Content-Digest is not a structured-field dictionary")
	}
	known := 0
	for _, alg := range d.Names() {
		var sum []byte
		switch alg {
		case "sha-256":
			h := sha256.Sum256(body)
			sum = h[:]
		case "sha-512":
			h := sha512.Sum512(body)
			sum = h[:]
		default:
			continue
		}
		known++
		mem, _ := d.Get(alg)
		item, ok := mem.(httpsfv.Item)
		got, isBytes := item.Value.([]byte)
		if !ok || !isBytes {
			return Errorf(ReasonMalformed, "Content-Digest %s is not a byte sequence (:base64:)", alg)
		}
		if subtle.ConstantTimeCompare(got, sum) != 1 {
			return Errorf(ReasonDigest, "the body does not match Content-Digest %s (the body was changed, or the digest is of another body)", alg)
		}
	}
	if known == 0 {
		return Errorf(ReasonMalformed, "Content-Digest has no sha-256 or sha-512 member")
	}
	return nil
}
