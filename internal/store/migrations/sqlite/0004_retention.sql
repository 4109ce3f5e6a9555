-- Audit retention deletes the oldest events by time, in batches
-- (DeleteEventsBefore); this index keeps each batch from scanning the
-- log. Keep in step with the other dialect's 0004_retention.sql.
CREATE INDEX audit_events_occurred ON audit_events (occurred_at);
