// Package httpsig verifies and makes HTTP Message Signatures (RFC 9421)
// over requests, with the body bound by a Content-Digest field (RFC 9530).
//
// It owns the parts that must agree byte for byte with every other
// implementation: parsing the Signature-Input and Signature fields (RFC
// 8941 structured fields, through github.com/dunglas/httpsfv), the
// signature base of RFC 9421 §2.5 for the derived components @method,
// @target-uri, @path, @authority and @query and for header fields, the
// algorithms hmac-sha256, ed25519 and ecdsa-p256-sha256, and the
// Content-Digest algorithms sha-256 and sha-512.
//
// On top of the RFC it enforces tokend's policy for a signed request
// (see Verifier.Verify): the covered components must include @method, the
// target (@target-uri, or @authority and @path, and @query when the
// target has one) and content-digest when there is a body; created must
// lie within a window and not in the future beyond a small skew; a nonce
// is required and is never accepted twice within the window (NonceStore,
// in process or shared by every node through Redis).
//
// The package does not speak net/http: a request reaches it as a
// Message, built by the surfaces (server, gateway) from what they hold.
// It never logs, and its errors never contain a key or a signature.
package httpsig
