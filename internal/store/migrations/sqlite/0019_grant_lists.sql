-- The admin list of every user's OAuth grants (ListAllGrants), so that
-- every page is a seek and a short walk in its order at any depth: all
-- grants by user and client (the primary key), a client's grants by
-- user, the grants least recently used, and an API's grants through
-- oauth_grant_apis, one row per API a grant names (SaveGrant keeps it in
-- step with oauth_grants.api_ids; deleting the grant or the API deletes
-- its rows).
-- The client IP of refresh tokens: the address of the token request that
-- issued each one, so that the "my tokens" page shows where an app or a
-- device last refreshed from.
-- Keep in step with the other dialect's 0019_grant_lists.sql.
DROP INDEX oauth_grants_client;
CREATE INDEX oauth_grants_client_user ON oauth_grants (client_id, user_id);
CREATE INDEX oauth_grants_last_use ON oauth_grants (last_used_at, user_id, client_id);

CREATE TABLE oauth_grant_apis (
	api_id    TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	user_id   TEXT NOT NULL,
	client_id TEXT NOT NULL,
	PRIMARY KEY (api_id, user_id, client_id),
	FOREIGN KEY (user_id, client_id) REFERENCES oauth_grants (user_id, client_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX oauth_grant_apis_grant ON oauth_grant_apis (user_id, client_id);

INSERT INTO oauth_grant_apis (api_id, user_id, client_id)
SELECT DISTINCT j.value, g.user_id, g.client_id FROM oauth_grants g, json_each(g.api_ids) j
WHERE j.value IN (SELECT id FROM apis);

ALTER TABLE oauth_refresh_tokens ADD COLUMN ip TEXT NOT NULL DEFAULT '';
