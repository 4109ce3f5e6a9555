-- The "pat.expiring" notice (package apikey, ClaimExpiringPATs): the
-- expires_at a personal access token's notice was sent for, NULL until
-- then. A sweep claims a notice by setting it to expires_at in the
-- transaction that writes the audit event (and so queues its webhook
-- deliveries), only where it differs: of several nodes sweeping at once
-- exactly one claims each token's notice, once per expiry. The sweep
-- reads through keys_pat_expiry (0011).
-- Keep in step with the other dialect's 0017_pat_expiry_notice.sql.
ALTER TABLE keys ADD COLUMN expiry_noticed_at INTEGER;
