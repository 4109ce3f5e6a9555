package dpop

import "errors"

// The RFC 9449 error codes (§7.1, §8, §12.2).
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
)

// Error is a refused proof. Code is CodeInvalidProof or CodeUseNonce;
// Description is public text for the error_description, which never
// holds the proof or a token. Nonce, set with CodeUseNonce, is the
// nonce the client must use next (the DPoP-Nonce response header).
type Error struct {
	Code        string
	Description string
	Nonce       string
}

func (e *Error) Error() string { return "dpop: " + e.Code + ": " + e.Description }

func invalid(desc string) *Error { return &Error{Code: CodeInvalidProof, Description: desc} }

// ErrReplayCacheFull is returned (wrapped) when the in-process replay
// cache holds its maximum of unexpired proofs: the proof is refused,
// not accepted unchecked. It is a server condition, not the client's
// fault.
var ErrReplayCacheFull = errors.New("dpop replay cache full")
