package tokenauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// DefaultMaxDigestBody is the largest body CheckContentDigest and
// RequireContentDigest read when given no limit (and Config.MaxSignedBody's
// default): 10 MiB.
const DefaultMaxDigestBody = defaultMaxSignedBody

// CheckContentDigest checks the body of r against its Content-Digest
// field (RFC 9530): the check an upstream behind forward-auth (nginx
// auth_request, Traefik forwardAuth, Envoy ext_authz) must make itself
// for HTTP-signed requests (RFC 9421), because the proxy asks tokend
// about the headers alone. tokend checks that the signature covers
// Content-Digest; only the upstream sees whether the body matches it.
//
// It reads the body when r carries a Content-Digest field or a signature
// (a Signature-Input or Signature field), up to maxBody bytes (0 or less
// means DefaultMaxDigestBody), and puts it back, so the handler reads it
// as sent. Then:
//
//   - with a Content-Digest field, the body, empty or not, must match
//     every sha-256 and sha-512 member, and there must be one (members of
//     other algorithms are ignored);
//   - without one, a signed request must have no body: a body added to a
//     request signed without one is refused.
//
// Any other request (unsigned, no Content-Digest) is left unread. The
// comparison is in constant time, and is the one the middleware of this
// package makes for signed requests.
//
// The error is nil or an *Error: 400 ErrInvalidRequest for a missing,
// malformed or mismatched Content-Digest or an unreadable body, 413 for
// a body over maxBody. Its Description says what did not match.
func CheckContentDigest(r *http.Request, maxBody int64) error {
	if e := checkContentDigest(r, maxBody); e != nil {
		return e
	}
	return nil
}

func checkContentDigest(r *http.Request, maxBody int64) *Error {
	digest := r.Header.Values("Content-Digest")
	if len(digest) == 0 && !isSigned(r) {
		return nil
	}
	body, e := readBody(r, maxBody)
	if e != nil {
		return e
	}
	if len(digest) == 0 && len(body) == 0 {
		return nil
	}
	if msg := checkDigest(digest, body); msg != "" {
		return invalidRequest(msg)
	}
	return nil
}

// RequireContentDigest wraps next so that a request whose body does not
// match its Content-Digest, as CheckContentDigest decides with maxBody,
// never reaches it. It answers the refusal with its status (400 or 413),
// Cache-Control: no-store and a JSON body
//
//	{"error":"invalid_request","error_description":"the body does not match Content-Digest sha-256 (…)"}
//
// Put it in front of the handlers of an upstream that nginx (or another
// proxy) guards with forward-auth to tokend, for APIs whose keys sign
// their requests. A server that verifies with this package's Middleware
// or Require, or sits behind tokend gateway, needs no more: they check
// the body themselves.
func RequireContentDigest(maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := checkContentDigest(r, maxBody); e != nil {
			writeRequestError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isSigned reports whether r carries an RFC 9421 signature.
func isSigned(r *http.Request) bool {
	return r.Header.Get("Signature-Input") != "" || r.Header.Get("Signature") != ""
}

// readBody reads r's body, at most maxBody bytes (0 or less: the
// default), and puts it back for the handler.
func readBody(r *http.Request, maxBody int64) ([]byte, *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxDigestBody
	}
	if r.ContentLength > maxBody {
		return nil, bodyTooLarge(maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body.Close()
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, bodyTooLarge(maxBody)
		}
		return nil, invalidRequest("the body could not be read")
	}
	if int64(len(body)) > maxBody {
		return nil, bodyTooLarge(maxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func bodyTooLarge(maxBody int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: ErrInvalidRequest,
		Description: "the body is larger than the " + strconv.FormatInt(maxBody, 10) + " bytes read to check its Content-Digest"}
}

// writeRequestError answers e, a refusal that is not about the token:
// its status and the JSON body of WriteError, without a challenge.
func writeRequestError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}
