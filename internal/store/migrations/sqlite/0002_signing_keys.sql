-- JWT signing keys and revoked JWT ids, SQLite. Times are unix
-- microseconds (NULL: not yet). Keep in step with ../postgres/0002_signing_keys.sql.

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
	sealed     BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	active_at  INTEGER NOT NULL,
	retired_at INTEGER,
	expires_at INTEGER
) STRICT;

CREATE INDEX signing_keys_active_at ON signing_keys (active_at);

-- revoked_jtis holds the jti of every revoked JWT until the JWT expires.
CREATE TABLE revoked_jtis (
	jti        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_jtis_expires_at ON revoked_jtis (expires_at);
