-- Initial schema, SQLite. Times are unix microseconds (NULL: never).
-- JSON-valued columns hold TEXT. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE apis (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	audience   TEXT NOT NULL UNIQUE,
	scopes     TEXT NOT NULL,
	key_prefix TEXT NOT NULL UNIQUE,
	policy     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE keys (
	id                 TEXT PRIMARY KEY,
	api_id             TEXT NOT NULL REFERENCES apis (id),
	subject            TEXT NOT NULL,
	name               TEXT NOT NULL,
	prefix             TEXT NOT NULL,
	secret_start       TEXT NOT NULL,
	secret_end         TEXT NOT NULL,
	scopes             TEXT NOT NULL,
	expires_at         INTEGER,
	allowed_cidrs      TEXT NOT NULL,
	ratelimits         TEXT NOT NULL,
	credits_remaining  INTEGER,
	refill_amount      INTEGER NOT NULL DEFAULT 0,
	refill_interval_us INTEGER NOT NULL DEFAULT 0,
	refilled_at        INTEGER,
	metadata           TEXT,
	enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	revoked_at         INTEGER,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	last_used_at       INTEGER,
	usage_count        INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX keys_api_id ON keys (api_id, id);
CREATE INDEX keys_subject ON keys (subject, id);

CREATE TABLE key_secrets (
	hash         BLOB PRIMARY KEY CHECK (length(hash) = 32),
	key_id       TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
	secret_start TEXT NOT NULL,
	secret_end   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX key_secrets_key_id ON key_secrets (key_id);

CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	occurred_at INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	client_ip   TEXT NOT NULL,
	before_json TEXT,
	after_json  TEXT
) STRICT;

CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
