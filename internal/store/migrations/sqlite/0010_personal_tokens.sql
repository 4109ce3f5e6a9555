-- Personal access tokens (package apikey, pat.go) are keys with an owner:
-- user_id names the user who holds one, NULL for an API key. It never
-- changes. No foreign key: deleting a user deletes their tokens in the
-- same transaction (DeleteUser), which also announces their secrets.
-- Keep in step with the other dialect's 0010_personal_tokens.sql.
ALTER TABLE keys ADD COLUMN user_id TEXT;

CREATE INDEX keys_user_id ON keys (user_id, id) WHERE user_id IS NOT NULL;
