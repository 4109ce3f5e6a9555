// Package seal owns tokend's key-encryption key (KEK) and the one way
// anything is encrypted at rest under it: AES-256-GCM with a random
// 12-byte nonce, stored as nonce || ciphertext, with additional data that
// names what was sealed (a signing key's kid, a user's id), so a sealed
// value cannot be moved to another row.
//
// Signing keys (package signer) and TOTP secrets (package user) are sealed
// here. This package knows nothing of what it seals and imports only the
// standard library; the store only ever sees sealed bytes.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KEKSize is the length of a key-encryption key: AES-256.
const KEKSize = 32

// ErrWrongKEK means a sealed value does not open under the configured
// key-encryption key: the KEK is not the one the value was sealed with,
// the additional data differs, or the value was tampered with.
var ErrWrongKEK = errors.New("does not decrypt with this key-encryption key (is --kek-file or TOKEND_KEK the one it was sealed with?)")

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

// Seal encrypts plaintext under kek with ad as additional data and
// returns nonce || ciphertext. It fails only for a kek of the wrong size.
func Seal(kek []byte, ad string, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, []byte(ad)), nil
}

// Open reverses Seal. A wrong kek or ad, or a modified or truncated box,
// is ErrWrongKEK.
func Open(kek []byte, ad string, box []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(box) < n+aead.Overhead() {
		return nil, fmt.Errorf("sealed value is %d bytes: %w", len(box), ErrWrongKEK)
	}
	pt, err := aead.Open(nil, box[:n], box[n:], []byte(ad))
	if err != nil {
		return nil, ErrWrongKEK
	}
	return pt, nil
}

// Derive returns a 32-byte key for purpose, derived from kek with
// HMAC-SHA-256: a secret every node holding the KEK shares (the DPoP
// nonce key), that reveals nothing of the KEK.
func Derive(kek []byte, purpose string) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("tokend derive\x00" + purpose))
	return m.Sum(nil)
}
