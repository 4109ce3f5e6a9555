// Package signer owns tokend's JWT signing keys: it generates them,
// encrypts their private halves at rest, rotates them, signs and verifies
// compact JWS, and publishes the public halves as a JWK Set.
//
// # Keys at rest
//
// A private key is stored as PKCS #8, sealed with AES-256-GCM under the
// key-encryption key (KEK) given in [Config.KEK]: a random 12-byte nonce
// followed by the ciphertext, with the key's kid as additional data, so a
// sealed key cannot be moved to another row. The store never sees a
// private key in clear, and the JWKS holds public keys only.
//
// # Rotation
//
// Every key has three times. It is published (in the JWKS) from its
// creation; it signs, and [Signer.Verify] accepts its signatures, from
// ActiveAt (less [ClockSkew]), which is
// [Config.Lead] after its creation, so that every resource server has
// fetched it before it meets a token signed with it; and when the next key
// becomes active it is retired but stays published for
// [Config.MaxTokenTTL] more, until every token it signed has expired.
// [Signer.Sign] always uses the published key with the latest ActiveAt that
// is not in the future, so nodes agree on the signing key by the clock
// alone.
//
// A rotation is one store transaction that refuses to add a key when a
// newer one appeared meanwhile (see store.DB.RotateSigningKey), so nodes
// sharing a database never rotate twice. Every change to the keys (a
// rotation, a deletion of expired keys) is announced by the store at
// commit, and every node's Signer reloads its keys when it hears it, within
// a second (see package cluster); [Config.ReloadEvery] is only the
// backstop, and the lead time must be much longer than that.
//
// This package does not check claims (iss, aud, exp, nbf): that is the
// caller's job, as is choosing what to sign. The shape of a compact JWS
// (base64url characters only) is package credential's, as are the typ
// values.
package signer
