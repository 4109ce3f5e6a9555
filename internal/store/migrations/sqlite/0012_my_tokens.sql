-- The "my tokens" page and /v1/me: a person's refresh-token families by
-- subject, the device sign-in that started a family, and the recent uses
-- of personal access tokens. Keep in step with the other dialect's
-- 0012_my_tokens.sql.
CREATE INDEX oauth_refresh_tokens_subject ON oauth_refresh_tokens (subject, created_at);
CREATE INDEX oauth_device_codes_family ON oauth_device_codes (family_id) WHERE family_id IS NOT NULL;

-- key_uses counts the verifications of a personal access token per
-- minute, client address and result code. Bounded: the usage flush keeps
-- the newest rows of each key it touches (KeepUses) and the sweep drops
-- rows older than the retention.
CREATE TABLE key_uses (
	key_id TEXT NOT NULL,
	minute INTEGER NOT NULL,
	ip     TEXT NOT NULL,
	code   TEXT NOT NULL,
	count  INTEGER NOT NULL,
	PRIMARY KEY (key_id, minute, ip, code)
) STRICT, WITHOUT ROWID;

CREATE INDEX key_uses_minute ON key_uses (minute);
