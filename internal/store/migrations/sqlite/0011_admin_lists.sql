-- The indexes of the admin lists of personal access tokens (ListKeys),
-- so that every page of 100,000 tokens is a seek and a short walk in
-- its order, at any depth: all tokens by id, an API's tokens by id, the
-- tokens expiring soonest, the tokens least recently used (never used:
-- by creation). A user's tokens use keys_user_id (0010). The expression
-- of keys_pat_last_use must stay the one ListKeys orders by.
-- Keep in step with the other dialect's 0011_admin_lists.sql.
CREATE INDEX keys_pat_id ON keys (id) WHERE user_id IS NOT NULL;
CREATE INDEX keys_pat_api ON keys (api_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX keys_pat_expiry ON keys (expires_at, id) WHERE user_id IS NOT NULL;
CREATE INDEX keys_pat_last_use ON keys ((COALESCE(last_used_at, created_at)), id) WHERE user_id IS NOT NULL;
