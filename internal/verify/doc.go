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
// # Invalidation
//
// The cache (found and unknown tokens) and the JWT state (revoked jtis,
// registered audiences) hold verification answers, so they must never
// outlive a change to what they answer. An [Engine] subscribes to its
// store's changes when it is made (store.DB.Subscribe), and that is its
// only invalidation path: every committed change that can alter an
// answer, made on this node or on another one (through cluster.Listener),
// is announced by the store with what it affects, and the engine drops
// exactly that: the hashes of changed API key secrets and opaque access
// tokens (a changed API comes with those of its keys and tokens), revoked
// jtis, the registered audiences when an API changed, and, for a change
// it cannot name (store.Change.All, after a listener reconnects),
// everything. A fill that read the store before an invalidation is never
// stored after it. The TTLs ([Config.CacheTTL], [Config.NegativeTTL])
// are only the backstop for a change that was missed.
//
// JWT access tokens are checked by signer (signature, kid, typ) and their
// claims decoded by credential.DecodeAccessClaims, the one decoder; the
// token formats, prefixes and kinds are package credential's.
//
// The package owns the cache and its invalidation; it does not speak HTTP
// or SQL.
package verify
