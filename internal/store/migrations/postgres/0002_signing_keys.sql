-- JWT signing keys and revoked JWT ids, PostgreSQL. Times are unix
-- microseconds (NULL: not yet). Keep in step with ../sqlite/0002_signing_keys.sql.

-- signing_keys holds tokend's JWT signing keys. public_jwk is the public
-- JWK (JSON); sealed is the private key as PKCS #8, encrypted with
-- AES-256-GCM under the key-encryption key: a 12-byte nonce, then the
-- ciphertext and tag, with the kid as additional data. A key signs from
-- active_at until the next key's active_at (its retired_at) and is
-- published until expires_at.
CREATE TABLE signing_keys (
	kid        TEXT PRIMARY KEY,
	alg        TEXT NOT NULL,
	public_jwk TEXT NOT NULL,
	sealed     BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	active_at  BIGINT NOT NULL,
	retired_at BIGINT,
	expires_at BIGINT
);

CREATE INDEX signing_keys_active_at ON signing_keys (active_at);

-- revoked_jtis holds the jti of every revoked JWT until the JWT expires.
CREATE TABLE revoked_jtis (
	jti        TEXT PRIMARY KEY,
	expires_at BIGINT NOT NULL
);

CREATE INDEX revoked_jtis_expires_at ON revoked_jtis (expires_at);
