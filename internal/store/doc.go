// Package store is tokend's storage: the only package that speaks SQL.
//
// A [*DB] holds APIs, keys, key secrets (SHA-256 hashes only), the audit
// log and one-time markers. It runs on SQLite (the default, pure Go, for one
// node) or PostgreSQL (for several nodes sharing one database); [Open]
// picks the dialect from the DSN and applies the embedded, numbered
// migrations in migrations/sqlite and migrations/postgres.
//
// Every method is one operation. A mutation runs in one transaction and
// writes its audit [Event] in that same transaction, so the log holds
// exactly the changes that were committed. Methods name in their doc the
// sentinel errors ([ErrNotFound], [ErrConflict], [ErrInUse]) they return;
// anything else is an infrastructure failure, wrapped with context.
//
// A mutation that can alter a verification answer also announces what it
// affects, as a [Change]: on PostgreSQL with NOTIFY on [ChangesChannel]
// inside its transaction (so every node hears it at commit), and in
// process to the subscribers of [DB.Subscribe] right after the commit.
// This is tokend's one invalidation channel; notify.go documents it.
//
// Times are stored as unix microseconds and returned in UTC; the zero
// [time.Time] is stored as NULL and means "never". Lists and settings
// (scopes, CIDRs, rate limits, policy, metadata) are stored as JSON text.
//
// All methods are safe for concurrent use.
package store
