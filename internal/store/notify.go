package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
)

// ChangesChannel is the PostgreSQL notification channel of tokend's one
// invalidation channel. The contract:
//
// Every committed change that can alter a verification answer announces
// what it affects, as one [Change], in the transaction that makes it.
// On PostgreSQL the write path sends the change's [Change.Payload] with
// pg_notify on ChangesChannel inside the transaction, so PostgreSQL
// delivers it to every listening node at commit, and never for a change
// that rolled back; a node hears it through its cluster.Listener, which
// hands it to [DB.Deliver]. On every dialect the write path also delivers
// the change in process, right after the commit and before the method
// returns, so the node that made a change answers by it at once (on
// SQLite, which has one node, this is the whole channel).
//
// Subscribers ([DB.Subscribe]) are the caches that hold verification
// answers: the verification cache and its JWT revocation state, the
// signer's key set, the OAuth client and API caches. They listen there
// and nowhere else. A subscriber that receives a change with All set
// drops everything it holds, which is what a node that may have missed
// changes does (a listener that reconnects delivers Change{All: true}).
//
// Two kinds of writes announce nothing, on purpose. Creations (of a key,
// a client, a token) cannot make a cached answer wrong: nothing was
// cached about a credential that did not exist, since a miss is cached by
// the hash of a secret nobody held. Sweeps of rows that expired long ago
// (DeleteExpiredSecrets, DeleteExpiredOAuth, DeleteExpiredJTIs) can at
// most turn a cached EXPIRED into NOT_FOUND, never into VALID. A new API
// is announced all the same, since JWTs may already name its audience.
//
// Channels are per database, not per schema: deployments sharing a
// database hear each other, which costs only needless cache drops.
const ChangesChannel = "tokend_changes"

// Change says what one committed store change affects. A zero Change
// affects nothing. New kinds of credentials add a field here and a tag in
// the payload. A personal access token or a session token is an opaque
// secret and goes in Secrets; a change to its owner (groups, enabled, deletion) names the
// owner in Users and the secrets of every token they hold in Secrets.
type Change struct {
	// All: drop everything cached; the change is too large to name, or
	// changes may have been missed.
	All bool
	// Secrets are the SHA-256 hashes of opaque credentials whose answer
	// changed: API key secrets and opaque access tokens.
	Secrets [][32]byte
	// JTIs are JWT ids newly revoked.
	JTIs []string
	// Clients are OAuth client ids changed or deleted.
	Clients []string
	// APIs are API ids created, changed or deleted.
	APIs []string
	// Users are the ids of users changed or deleted: whatever is cached
	// about them (sessions, the standing of their personal access tokens)
	// is stale.
	Users []string
	// SigningKeys: the set of signing keys changed.
	SigningKeys bool
}

// IsZero reports whether c affects nothing.
func (c Change) IsZero() bool {
	return !c.All && !c.SigningKeys && len(c.Secrets) == 0 && len(c.JTIs) == 0 &&
		len(c.Clients) == 0 && len(c.APIs) == 0 && len(c.Users) == 0
}

// The payload is a space-separated list of tagged items, "<tag>:<value>":
// s: a secret hash in hex, j: a jti, c: a client id, a: an API id, u: a
// user id, and "k:" for the signing keys. PurgeAll alone means Change{All: true}. A
// reader that meets anything it cannot read (a tag from a newer version,
// a bad hash) treats the payload as PurgeAll, which is always safe.
const (
	tagSecret      = "s:"
	tagJTI         = "j:"
	tagClient      = "c:"
	tagAPI         = "a:"
	tagUser        = "u:"
	tagSigningKeys = "k:"
)

// PurgeAll is the payload that tells listeners to drop everything.
const PurgeAll = "*"

// maxPayload keeps payloads under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// Payload encodes c for ChangesChannel: PurgeAll when c.All is set, when
// it would not fit into one notification, or when an id cannot be
// written in the format.
func (c Change) Payload() string {
	if c.All {
		return PurgeAll
	}
	var b strings.Builder
	item := func(tag, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tag)
		b.WriteString(v)
	}
	for _, h := range c.Secrets {
		item(tagSecret, hex.EncodeToString(h[:]))
	}
	for _, ids := range []struct {
		tag string
		ids []string
	}{{tagJTI, c.JTIs}, {tagClient, c.Clients}, {tagAPI, c.APIs}, {tagUser, c.Users}} {
		for _, id := range ids.ids {
			if !plainID(id) {
				return PurgeAll
			}
			item(ids.tag, id)
		}
	}
	if c.SigningKeys {
		item(tagSigningKeys, "")
	}
	if b.Len() > maxPayload {
		return PurgeAll
	}
	return b.String()
}

// plainID reports whether id can stand in a payload as is: printable
// ASCII without spaces.
func plainID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// ParseChange decodes a ChangesChannel payload. Anything it cannot read
// gives Change{All: true}.
func ParseChange(payload string) Change {
	var c Change
	if payload == PurgeAll {
		return Change{All: true}
	}
	for _, f := range strings.Fields(payload) {
		tag, v := f[:min(2, len(f))], f[min(2, len(f)):]
		switch {
		case tag == tagSecret && len(v) == 64:
			var h [32]byte
			if _, err := hex.Decode(h[:], []byte(v)); err != nil {
				return Change{All: true}
			}
			c.Secrets = append(c.Secrets, h)
		case tag == tagJTI && v != "":
			c.JTIs = append(c.JTIs, v)
		case tag == tagClient && v != "":
			c.Clients = append(c.Clients, v)
		case tag == tagAPI && v != "":
			c.APIs = append(c.APIs, v)
		case tag == tagUser && v != "":
			c.Users = append(c.Users, v)
		case tag == tagSigningKeys && v == "":
			c.SigningKeys = true
		default:
			return Change{All: true}
		}
	}
	return c
}

// hub is the in-process dispatcher: it hands every change to each
// subscriber, in the order of subscription.
type hub struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Change)
}

// Subscribe makes fn receive every change committed through db and every
// change delivered with [DB.Deliver], until the returned function is
// called. fn runs on the goroutine that committed or delivered the change,
// after the commit and before the write method returns; it must be quick,
// must not block, and must not write to db. Calls may be concurrent.
func (db *DB) Subscribe(fn func(Change)) (cancel func()) {
	h := &db.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]func(Change){}
	}
	id := h.next
	h.next++
	h.subs[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}
}

// Deliver hands c to every subscriber. cluster.Listener calls it with the
// changes other nodes announced, and with Change{All: true} when it may
// have missed some.
func (db *DB) Deliver(c Change) {
	if c.IsZero() {
		return
	}
	h := &db.hub
	h.mu.RLock()
	ids := make([]int, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fns := make([]func(Change), len(ids))
	for i, id := range ids {
		fns[i] = h.subs[id]
	}
	h.mu.RUnlock()
	for _, fn := range fns {
		fn(c)
	}
}

// change runs fn in one write transaction, like write, and announces what
// fn adds to its Change: with pg_notify inside the transaction on
// PostgreSQL, and in process after the commit. The in-process delivery
// happens even when the commit reports an error, since the change may
// have been committed anyway; a needless invalidation only costs a cache
// miss.
func (db *DB) change(ctx context.Context, fn func(*sql.Tx, *Change) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var c Change
	if err := fn(tx, &c); err != nil {
		return err
	}
	if err := db.notify(ctx, tx, c); err != nil {
		return err
	}
	err = tx.Commit()
	db.Deliver(c)
	return err
}

// notify sends c's payload on ChangesChannel within tx, on PostgreSQL.
func (db *DB) notify(ctx context.Context, tx *sql.Tx, c Change) error {
	if db.d.name != "postgres" || c.IsZero() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, ChangesChannel, c.Payload())
	return err
}

// tokensOfUser returns the hashes of the secrets of every personal access
// token of user id: what a change to the user can change the answer for.
func tokensOfUser(ctx context.Context, tx *sql.Tx, id string) ([][32]byte, error) {
	return secretsOf(ctx, tx, `s.key_id IN (SELECT id FROM keys WHERE user_id = $1)`, id)
}

// secretsOf returns the hashes of the secrets chosen by where ($1 is
// arg), a condition on key_secrets s, for a Change.
func secretsOf(ctx context.Context, tx *sql.Tx, where string, arg any) ([][32]byte, error) {
	return queryHashes(ctx, tx, `SELECT s.hash FROM key_secrets s WHERE `+where, arg)
}
