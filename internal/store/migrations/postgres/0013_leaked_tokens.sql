-- Why a key or personal access token was revoked, when tokend knows:
-- 'leaked' when it was reported found in public (POST /v1/leaked-tokens),
-- '' otherwise. Keep in step with the other dialect's 0013_leaked_tokens.sql.
ALTER TABLE keys ADD COLUMN revoked_reason TEXT NOT NULL DEFAULT '';
