-- OAuth 2.0 clients and the opaque tokens issued to them, PostgreSQL. Times
-- are unix microseconds (NULL: never); JSON-valued columns hold TEXT.
-- Secrets and tokens are stored only as their SHA-256. Keep in step with
-- ../sqlite/0003_oauth.sql.

CREATE TABLE oauth_clients (
	id                TEXT PRIMARY KEY,
	name              TEXT NOT NULL,
	grant_types       TEXT NOT NULL,
	api_scopes        TEXT NOT NULL,
	access_ttl_us     BIGINT NOT NULL,
	refresh_ttl_us    BIGINT NOT NULL,
	token_format      TEXT NOT NULL,
	auth_method       TEXT NOT NULL,
	jwks              TEXT,
	secret_hash       BYTEA CHECK (secret_hash IS NULL OR octet_length(secret_hash) = 32),
	secret_start      TEXT NOT NULL,
	secret_end        TEXT NOT NULL,
	registration_hash BYTEA UNIQUE CHECK (registration_hash IS NULL OR octet_length(registration_hash) = 32),
	dynamic           BOOLEAN NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE TABLE oauth_access_tokens (
	hash       BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	id         TEXT NOT NULL,
	client_id  TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	api_id     TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	subject    TEXT NOT NULL,
	scopes     TEXT NOT NULL,
	family_id  TEXT,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT
);

CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);
CREATE INDEX oauth_access_tokens_api ON oauth_access_tokens (api_id);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_expires ON oauth_access_tokens (expires_at);

CREATE TABLE oauth_refresh_tokens (
	hash              BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	id                TEXT NOT NULL UNIQUE,
	family_id         TEXT NOT NULL,
	client_id         TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	api_id            TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	subject           TEXT NOT NULL,
	scopes            TEXT NOT NULL,
	access_jti        TEXT,
	access_expires_at BIGINT,
	created_at        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	used_at           BIGINT,
	revoked_at        BIGINT
);

CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens (client_id);
CREATE INDEX oauth_refresh_tokens_api ON oauth_refresh_tokens (api_id);
CREATE INDEX oauth_refresh_tokens_expires ON oauth_refresh_tokens (expires_at);

-- jti values of private_key_jwt client assertions, kept until the
-- assertion expires so that a replay is refused (RFC 7523 §3).
CREATE TABLE oauth_assertion_jtis (
	client_id  TEXT NOT NULL,
	jti        TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (client_id, jti)
);

CREATE INDEX oauth_assertion_jtis_expires ON oauth_assertion_jtis (expires_at);
