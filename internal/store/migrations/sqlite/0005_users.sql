-- People (package user). username_key is the lowercased username, so
-- that usernames are unique regardless of case. password_hash is the
-- argon2id encoded hash (with its parameters), NULL until a password is
-- set; groups is a JSON array of names. A set-password link is stored by
-- the SHA-256 of its token, never the token. Keep in step with the other
-- dialect's 0005_users.sql.
CREATE TABLE users (
	id                  TEXT PRIMARY KEY,
	username            TEXT NOT NULL,
	username_key        TEXT NOT NULL UNIQUE,
	email               TEXT NOT NULL,
	display_name        TEXT NOT NULL,
	groups              TEXT NOT NULL,
	admin               INTEGER NOT NULL,
	enabled             INTEGER NOT NULL,
	source              TEXT NOT NULL,
	password_hash       TEXT,
	password_changed_at INTEGER,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE password_links (
	hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX password_links_user_id ON password_links (user_id);
