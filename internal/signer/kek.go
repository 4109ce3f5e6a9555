package signer

import (
	"fmt"

	"github.com/tokend/tokend/internal/seal"
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = seal.KEKSize

// ErrWrongKEK means a stored private key does not decrypt under the
// configured key-encryption key: the KEK is not the one the key was
// sealed with, or the row was tampered with. It is seal.ErrWrongKEK.
var ErrWrongKEK = seal.ErrWrongKEK

// sealKey encrypts a private key under kek, bound to its kid.
func sealKey(kek []byte, kid string, plaintext []byte) ([]byte, error) {
	box, err := seal.Seal(kek, kid, plaintext)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, err)
	}
	return box, nil
}

// openKey reverses sealKey; a wrong kek, kid or a modified box is
// ErrWrongKEK.
func openKey(kek []byte, kid string, box []byte) ([]byte, error) {
	pt, err := seal.Open(kek, kid, box)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, err)
	}
	return pt, nil
}
