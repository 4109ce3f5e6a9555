package httpsig

import "fmt"

// Reason classifies why a signature was refused, so that a surface can
// pick a stable code; the Error's text says what did not match.
type Reason int

// Reasons. Do not reorder: none is stored, but tests name them.
const (
	// ReasonMissing: the request carries no signature.
	ReasonMissing Reason = iota + 1
	// ReasonMalformed: Signature-Input, Signature or Content-Digest cannot
	// be parsed, or a parameter has the wrong type.
	ReasonMalformed
	// ReasonCoverage: a required component is not covered, or a covered
	// one is absent from the request.
	ReasonCoverage
	// ReasonStale: created is too old or in the future, or expires passed.
	ReasonStale
	// ReasonReplay: the nonce was seen within the window.
	ReasonReplay
	// ReasonDigest: the body does not match Content-Digest.
	ReasonDigest
	// ReasonKey: the keyid or alg does not name the key that verifies.
	ReasonKey
	// ReasonMismatch: the signature does not verify over the base.
	ReasonMismatch
)

// Error is a refused signature. Its message is safe to show the caller:
// it names components and parameters, never key material.
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return "signature: " + e.Msg }

// Errorf returns an *Error of reason r.
func Errorf(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}
