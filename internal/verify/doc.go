// Package verify is tokend's one verification path (DESIGN §3): it answers
// "is this token good for this request?" for the management API, the
// verify endpoint and the admin authentication of tokend itself.
//
// A verification parses the token (a bad checksum is NOT_FOUND without a
// lookup), finds its SHA-256 in an in-process cache or with one indexed
// query (misses are cached too, briefly), then checks, in this fixed
// order: exists, enabled, not expired, not revoked, audience, client IP,
// scopes, rate limits, credits. Bookkeeping (last used, usage counts) is
// batched off the request path.
//
// The package owns the cache and its invalidation; it does not speak HTTP
// or SQL.
package verify
