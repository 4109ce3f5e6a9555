package signer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// ErrWrongKEK means a stored private key does not decrypt under the
// configured key-encryption key: the KEK is not the one the key was
// sealed with, or the row was tampered with.
var ErrWrongKEK = errors.New("signing key does not decrypt with this key-encryption key (is --kek-file or TOKEND_KEK the one the keys were created with?)")

// ParseKEK decodes a key-encryption key written as base64 (standard or
// URL alphabet, with or without padding; surrounding space is ignored).
// It must hold exactly KEKSize bytes.
func ParseKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KEKSize {
				return nil, fmt.Errorf("key-encryption key has %d bytes, want %d", len(b), KEKSize)
			}
			return b, nil
		}
	}
	return nil, errors.New("key-encryption key is not base64")
}

// NewKEK returns a new random key-encryption key, base64-encoded as
// ParseKEK reads it.
func NewKEK() string {
	b := make([]byte, KEKSize)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key-encryption key has %d bytes, want %d", len(kek), KEKSize)
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal encrypts plaintext under kek with kid as additional data and
// returns nonce || ciphertext.
func seal(kek []byte, kid string, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, []byte(kid)), nil
}

// open reverses seal; a wrong kek, kid or a modified box is ErrWrongKEK.
func open(kek []byte, kid string, box []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	if len(box) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("signing key %s: sealed key is %d bytes: %w", kid, len(box), ErrWrongKEK)
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, box[:n], box[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", kid, ErrWrongKEK)
	}
	return pt, nil
}
