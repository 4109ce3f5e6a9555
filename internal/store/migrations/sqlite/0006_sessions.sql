-- Browser sessions of people (package user). A session is found by the
-- SHA-256 of its token (credential prefix tkss), never the token. pending
-- is "" for a full session, else the step still owed ("second_factor",
-- "enrol"); amr is a JSON array of RFC 8176 method names. last_seen_at
-- drives the idle timeout, expires_at is the absolute one. Keep in step
-- with the other dialect's 0006_sessions.sql.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	hash         BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	pending      TEXT NOT NULL,
	amr          TEXT NOT NULL,
	auth_time    INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT NOT NULL,
	user_agent   TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
