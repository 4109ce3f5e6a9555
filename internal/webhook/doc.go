// Package webhook delivers tokend's events to HTTPS endpoints operators
// register, signed per Standard Webhooks: headers webhook-id,
// webhook-timestamp and webhook-signature, "v1," followed by the base64
// HMAC-SHA256 of "id.timestamp.body" under the endpoint's secret.
//
// Events come from the audit log: the store queues a delivery for every
// subscribed endpoint in the transaction that writes the audit event
// (store.insertEvent), so an event is queued exactly when its change
// commits. The Deliverer takes due deliveries (one node per delivery,
// through a lease in the row), posts them through a Sender, and retries
// failures with exponential backoff up to a bounded number of attempts.
// Nothing here runs on a request's path beyond the registration check.
//
// Secrets are shown once, at creation and rotation, and are stored
// sealed under the key-encryption key (package seal), since tokend must
// use them to sign. Endpoints are held to the SSRF rules of the Sender
// (package fetch, wired by cmd): https on public addresses only, checked
// at registration and again at every connection.
package webhook
