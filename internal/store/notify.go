package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
)

// KeysChannel is the PostgreSQL notification channel on which every
// change to what a verification sees is announced, so that every node
// drops what it cached. The notification is sent inside the transaction
// that makes the change, so PostgreSQL delivers it at commit, and never
// for a change that rolled back. Channels are per database, not per
// schema: deployments sharing a database hear each other, which costs
// only needless cache drops. SQLite sends nothing (it has one node).
//
// The payload is the SHA-256 hashes of the changed secrets in hex,
// separated by spaces (empty: nothing cached can be affected), or
// PurgeAll when they would not fit into a notification.
const KeysChannel = "tokend_keys"

// PurgeAll is the payload that tells listeners to drop their whole cache.
const PurgeAll = "*"

// maxPayload keeps payloads under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// notifySecrets announces, within tx, that the secrets chosen by where
// ($1 is arg) are changing. where is a condition on key_secrets s.
func (db *DB) notifySecrets(ctx context.Context, tx *sql.Tx, where string, arg any) error {
	if db.d.name != "postgres" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+KeysChannel+`',
	CASE WHEN length(p) > `+strconv.Itoa(maxPayload)+` THEN '`+PurgeAll+`' ELSE p END)
FROM (SELECT coalesce(string_agg(encode(s.hash, 'hex'), ' '), '') AS p FROM key_secrets s WHERE `+where+`) x`, arg)
	return err
}

// notifyKey announces that key id is changing.
func (db *DB) notifyKey(ctx context.Context, tx *sql.Tx, id string) error {
	return db.notifySecrets(ctx, tx, `s.key_id = $1`, id)
}

// ParseKeysNotification decodes a KeysChannel payload into the secret
// hashes it names; all is true when the listener must drop everything
// (PurgeAll, or a payload it cannot read).
func ParseKeysNotification(payload string) (hashes [][32]byte, all bool) {
	if payload == PurgeAll {
		return nil, true
	}
	for _, f := range strings.Fields(payload) {
		var h [32]byte
		if len(f) != 64 {
			return nil, true
		}
		if _, err := hex.Decode(h[:], []byte(f)); err != nil {
			return nil, true
		}
		hashes = append(hashes, h)
	}
	return hashes, false
}
