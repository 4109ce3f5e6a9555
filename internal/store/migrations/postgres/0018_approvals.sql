-- The approval step: an API's policy may hold new personal access tokens
-- with chosen scopes, and dynamically registered OAuth clients, for an
-- administrator's decision. approval is '' (none was needed), pending,
-- approved or denied; approval_reason is the administrator's words, shown
-- to the owner; approval_at is when they decided (NULL while pending).
-- A pending or denied credential never verifies and never gets a token.
-- Keep in step with ../sqlite/0018_approvals.sql.
ALTER TABLE keys ADD COLUMN approval TEXT NOT NULL DEFAULT '' CHECK (approval IN ('', 'pending', 'approved', 'denied'));
ALTER TABLE keys ADD COLUMN approval_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN approval_at BIGINT;
ALTER TABLE oauth_clients ADD COLUMN approval TEXT NOT NULL DEFAULT '' CHECK (approval IN ('', 'pending', 'approved', 'denied'));
ALTER TABLE oauth_clients ADD COLUMN approval_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_clients ADD COLUMN approval_at BIGINT;

-- The approvals list (GET /v1/approvals) pages each state oldest first.
CREATE INDEX keys_approval ON keys (approval, created_at, id) WHERE approval <> '';
CREATE INDEX oauth_clients_approval ON oauth_clients (approval, created_at, id) WHERE approval <> '';
