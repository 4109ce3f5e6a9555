-- Passkeys / WebAuthn (package user). Keep in step with the other
-- dialect's 0008_passkeys.sql.
--
-- passkey_handles holds each user's WebAuthn user handle: 32 random bytes,
-- never the user id, made at the first registration and kept for as long
-- as the user exists, so every passkey of a user carries the same handle.
--
-- passkeys holds the registered credentials: the credential id the
-- authenticator chose (unique across users), its COSE public key, the
-- signature counter last seen, the authenticator's AAGUID, its transports
-- (a JSON array), the UV/BE/BS flags, the name the user gave it, and
-- when it was made and last used. Nothing here is a secret.
--
-- passkey_ceremonies holds the registration and sign-in ceremonies under
-- way, by the SHA-256 of the opaque state token handed to the browser,
-- never the token: the go-webauthn session data (challenge, allowed
-- credentials) as JSON, the user (NULL for a discoverable sign-in) and
-- an expiry. A ceremony is deleted when it is finished, so it works once.
CREATE TABLE passkey_handles (
	user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	handle  BYTEA NOT NULL UNIQUE CHECK (octet_length(handle) = 32)
);

CREATE TABLE passkeys (
	id                 TEXT PRIMARY KEY,
	user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id      BYTEA NOT NULL UNIQUE,
	public_key         BYTEA NOT NULL,
	attestation_type   TEXT NOT NULL,
	attestation_format TEXT NOT NULL,
	aaguid             BYTEA NOT NULL,
	sign_count         BIGINT NOT NULL,
	transports         TEXT NOT NULL,
	user_verified      BOOLEAN NOT NULL,
	backup_eligible    BOOLEAN NOT NULL,
	backup_state       BOOLEAN NOT NULL,
	name               TEXT NOT NULL,
	created_at         BIGINT NOT NULL,
	last_used_at       BIGINT
);

CREATE INDEX passkeys_user_id ON passkeys (user_id);

CREATE TABLE passkey_ceremonies (
	hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	kind       TEXT NOT NULL,
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
	session    TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at);
