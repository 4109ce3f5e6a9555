-- OpenID Connect and the user grants of OAuth 2.0 (package oauth), PostgreSQL.
-- Times are unix microseconds (NULL: not yet); JSON-valued columns hold
-- TEXT. Codes, device codes and request URIs are stored only as their
-- SHA-256. Keep in step with ../sqlite/0009_oauth_codes.sql.

-- Clients of the authorization code and device grants: their redirect
-- URIs, RP-initiated logout URIs, whether the operator made them
-- first-party (no consent page), the ID-token signing algorithm they
-- asked for ('' = the default), and their descriptive RFC 7591 metadata
-- (client_uri, logo_uri, contacts, application_type, scope) as JSON.
ALTER TABLE oauth_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauth_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE oauth_clients ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE oauth_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';

-- A signing key's role: '' for the keys of the configured algorithm,
-- 'rsa' for the RS256 keys kept beside them for ID tokens (OpenID
-- Connect requires RS256). Each role rotates on its own.
ALTER TABLE signing_keys ADD COLUMN role TEXT NOT NULL DEFAULT '';

-- Authorization codes (RFC 6749 §4.1), single use. Once redeemed, used_at
-- is set and family_id, access_jti and access_expires_at name what the
-- code issued, so that a replay revokes it (RFC 6749 §4.1.2).
CREATE TABLE oauth_codes (
	hash              BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	client_id         TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	redirect_uri      TEXT NOT NULL,
	challenge         TEXT NOT NULL,
	api_id            TEXT REFERENCES apis (id) ON DELETE CASCADE,
	scopes            TEXT NOT NULL,
	nonce             TEXT NOT NULL,
	auth_time         BIGINT NOT NULL,
	amr               TEXT NOT NULL,
	session_id        TEXT NOT NULL,
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	used_at           BIGINT,
	family_id         TEXT,
	access_jti        TEXT,
	access_expires_at BIGINT
);

CREATE INDEX oauth_codes_grant ON oauth_codes (user_id, client_id);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);

-- Device authorization requests (RFC 8628). user_code is the normalized
-- code the person types; status is pending, approved, denied or used.
CREATE TABLE oauth_device_codes (
	hash              BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	user_code         TEXT NOT NULL UNIQUE,
	client_id         TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	api_id            TEXT REFERENCES apis (id) ON DELETE CASCADE,
	scopes            TEXT NOT NULL,
	status            TEXT NOT NULL,
	user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
	auth_time         BIGINT,
	amr               TEXT NOT NULL,
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	polled_at         BIGINT,
	family_id         TEXT,
	access_jti        TEXT,
	access_expires_at BIGINT
);

CREATE INDEX oauth_device_codes_grant ON oauth_device_codes (user_id, client_id);
CREATE INDEX oauth_device_codes_expires ON oauth_device_codes (expires_at);

-- Consent: what a person allowed a client (OpenID and API scopes, and
-- the APIs), remembered until they revoke it.
CREATE TABLE oauth_grants (
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id    TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	scopes       TEXT NOT NULL,
	api_ids      TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, client_id)
);

CREATE INDEX oauth_grants_client ON oauth_grants (client_id);

-- Pushed authorization requests (RFC 9126), by the SHA-256 of their
-- request_uri, single use.
CREATE TABLE oauth_par (
	hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	params     TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE INDEX oauth_par_expires ON oauth_par (expires_at);
