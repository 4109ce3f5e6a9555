-- Second factors (package user). A TOTP secret is stored only sealed
-- under the key-encryption key (package seal, AES-256-GCM, the user id as
-- additional data); confirmed_at is NULL while the enrolment waits for
-- its first code. last_step is the RFC 6238 time step of the last code
-- accepted: a code is accepted only for a later step, so each works once.
-- A recovery code is stored only as a SHA-256 hash (codes are random,
-- 80 bits) and deleted when used. mfa_attempts counts the codes tried
-- since the last right one, for the throttle. Keep in step with the other
-- dialect's 0007_mfa.sql.
CREATE TABLE totp_secrets (
	user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	sealed       BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	confirmed_at INTEGER,
	last_step    INTEGER NOT NULL
) STRICT;

CREATE TABLE recovery_codes (
	hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

CREATE TABLE mfa_attempts (
	user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	failures     INTEGER NOT NULL,
	last_at      INTEGER NOT NULL,
	locked_until INTEGER NOT NULL
) STRICT;
