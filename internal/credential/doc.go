// Package credential is the vocabulary every other package speaks about
// the credentials tokend issues: the opaque token format (prefix, 256
// random bits in base62, CRC-32 checksum) with its hash and display
// fragments, every prefix tokend owns, the token kinds reported by
// verification and introspection, the JWT typ header values, and the
// RFC 9068 access-token claims with their one decoder.
//
// It is a leaf: it imports the standard library and go-jose only, holds
// no state and does no I/O, so that apikey, oauth, verify, signer, store
// and the coming user, session and PAT packages can all share it. No
// other package defines a prefix, a kind or a typ value, or decodes the
// claims of a JWT access token.
package credential
