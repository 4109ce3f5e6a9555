-- A person the directory (LDAP) disabled or dropped is disabled here at
-- the directory check, so that their personal access tokens and apps
-- stop at once; directory_disabled marks who the directory disabled, so
-- that the check enables them again once the directory does (an admin's
-- enable or disable clears it).
-- Keep in step with the other dialect's 0020_directory_disabled.sql.
ALTER TABLE users ADD COLUMN directory_disabled BOOLEAN NOT NULL DEFAULT FALSE;
