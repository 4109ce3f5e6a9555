-- Signed event webhooks. webhook_endpoints are the HTTPS endpoints
-- operators register; events is a comma-framed list (",key.create,") so
-- one LIKE matches an event type in both dialects; the secret is sealed
-- under the key-encryption key, never stored in clear.
-- webhook_deliveries is the outbox: one row per event and endpoint,
-- written in the transaction of the audit event it delivers, taken by
-- one node at a time (next_at is pushed past a lease when claimed) and
-- kept as the endpoint's delivery log. Keep in step with the other
-- dialect's 0015_webhooks.sql.
CREATE TABLE webhook_endpoints (
	id            TEXT PRIMARY KEY,
	url           TEXT NOT NULL,
	description   TEXT NOT NULL,
	events        TEXT NOT NULL,
	secret_sealed BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint_id   TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id      INTEGER NOT NULL,
	event_type    TEXT NOT NULL,
	state         TEXT NOT NULL,
	attempts      INTEGER NOT NULL,
	next_at       INTEGER NOT NULL,
	last_error    TEXT NOT NULL,
	response_code INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
