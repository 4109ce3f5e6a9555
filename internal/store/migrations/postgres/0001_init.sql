-- Initial schema, PostgreSQL. Times are unix microseconds (NULL: never).
-- JSON-valued columns hold TEXT. Keep in step with ../sqlite/0001_init.sql.

CREATE TABLE apis (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	audience   TEXT NOT NULL UNIQUE,
	scopes     TEXT NOT NULL,
	key_prefix TEXT NOT NULL UNIQUE,
	policy     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE keys (
	id                 TEXT PRIMARY KEY,
	api_id             TEXT NOT NULL REFERENCES apis (id),
	subject            TEXT NOT NULL,
	name               TEXT NOT NULL,
	prefix             TEXT NOT NULL,
	secret_start       TEXT NOT NULL,
	secret_end         TEXT NOT NULL,
	scopes             TEXT NOT NULL,
	expires_at         BIGINT,
	allowed_cidrs      TEXT NOT NULL,
	ratelimits         TEXT NOT NULL,
	credits_remaining  BIGINT,
	refill_amount      BIGINT NOT NULL DEFAULT 0,
	refill_interval_us BIGINT NOT NULL DEFAULT 0,
	refilled_at        BIGINT,
	metadata           TEXT,
	enabled            BOOLEAN NOT NULL,
	revoked_at         BIGINT,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	last_used_at       BIGINT,
	usage_count        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX keys_api_id ON keys (api_id, id);
CREATE INDEX keys_subject ON keys (subject, id);

CREATE TABLE key_secrets (
	hash         BYTEA PRIMARY KEY CHECK (octet_length(hash) = 32),
	key_id       TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	secret_start TEXT NOT NULL,
	secret_end   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT
);

CREATE INDEX key_secrets_key_id ON key_secrets (key_id);

CREATE TABLE audit_events (
	id          BIGSERIAL PRIMARY KEY,
	occurred_at BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	client_ip   TEXT NOT NULL,
	before_json TEXT,
	after_json  TEXT
);

CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
