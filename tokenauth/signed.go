package tokenauth

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/tokend/tokend/api"
)

// defaultMaxSignedBody bounds the body of a signed request, which is read
// into memory to check its Content-Digest (DefaultMaxDigestBody).
const defaultMaxSignedBody = 10 << 20

// signedRequest returns, for a request that carries an RFC 9421 signature
// (a Signature-Input or Signature field), the request as /v1/verify takes
// it, so that tokend checks the signature with the key's signing key. It
// checks the body against Content-Digest itself, since tokend never sees
// the body: the body is read (up to Config.MaxSignedBody) and put back
// for the handler. An unsigned request is nil: tokend then refuses it
// only if the key's API requires signed requests.
func (a *Auth) signedRequest(r *http.Request) (*api.SignedRequest, *Error) {
	if !isSigned(r) {
		return nil, nil
	}
	body, e := readBody(r, a.cfg.MaxSignedBody)
	if e != nil {
		if e.Status == http.StatusRequestEntityTooLarge {
			e.Description = "the body of a signed request is too large to check its digest"
		}
		return nil, e
	}
	// A Content-Digest is checked even against an empty body: a body
	// removed in transit leaves the digest, which the signature covers.
	if digest := r.Header.Values("Content-Digest"); len(body) > 0 || len(digest) > 0 {
		if msg := checkDigest(digest, body); msg != "" {
			return nil, invalidSignature(msg)
		}
	}
	return &api.SignedRequest{Method: r.Method, TargetURI: a.cfg.TargetURI(r), Headers: r.Header,
		HasBody: len(body) > 0}, nil
}

// targetURI is the default Config.TargetURI: the scheme of the connection,
// the Host header and the request target as received. A request target in
// absolute form (RFC 9112 §3.2.2, as sent to a proxy) is already the URI.
func targetURI(r *http.Request) string {
	if r.URL.IsAbs() && !strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.RequestURI
}

// checkDigest compares body with every sha-256 and sha-512 member of a
// Content-Digest field (RFC 9530), in constant time, and returns what did
// not match, or "". At least one of the two must be there. Members are
// RFC 8941 byte sequences (:base64:), which cannot hold a comma, so the
// dictionary splits on commas; parameters are not allowed.
func checkDigest(vals []string, body []byte) string {
	if len(vals) == 0 {
		return "the request has a body but no Content-Digest field"
	}
	known := 0
	for _, m := range strings.Split(strings.Join(vals, ","), ",") {
		name, v, ok := strings.Cut(strings.Trim(m, " \t"), "=")
		var sum []byte
		switch name {
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
		got, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(v, ":"), ":"))
		if !ok || len(v) < 2 || v[0] != ':' || v[len(v)-1] != ':' || err != nil {
			return "Content-Digest " + name + " is not a byte sequence (:base64:)"
		}
		if subtle.ConstantTimeCompare(got, sum) != 1 {
			return "the body does not match Content-Digest " + name + " (the body was changed, or the digest is of another body)"
		}
	}
	if known == 0 {
		return "Content-Digest has no sha-256 or sha-512 member"
	}
	return ""
}

// invalidSignature is a 401 for a signed request that does not hold.
func invalidSignature(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: ErrInvalidSignature, Description: "signature: " + desc}
}
