-- Signed requests (RFC 9421): a key may carry a signing key. signing_alg
-- is hmac-sha256, ed25519 or ecdsa-p256-sha256 (NULL: none). signing_key
-- is, for hmac-sha256, the shared secret sealed under the key-encryption
-- key (package seal; never in clear, never hashed, since verification
-- needs it), and otherwise the public key as PKIX DER.
-- Keep in step with the other dialect's 0014_request_signing.sql.
ALTER TABLE keys ADD COLUMN signing_alg TEXT;
ALTER TABLE keys ADD COLUMN signing_key BLOB;
