package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

const insertKeySQL = `INSERT INTO keys (id, api_id, subject, name, prefix, secret_start, secret_end,
	scopes, expires_at, allowed_cidrs, ratelimits,
	credits_remaining, refill_amount, refill_interval_us, refilled_at,
	metadata, enabled, revoked_at, created_at, updated_at, last_used_at, usage_count, user_id, revoked_reason,
	signing_alg, signing_key, jkt, approval, approval_reason, approval_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27,
	$28, $29, $30)`

// CreateKey inserts k, its current secret s, ev and the further events
// more (a pending token's approval.requested). s.KeyID may be empty; it
// is set to k.ID. It returns ErrNotFound if k.APIID names no API, and
// ErrConflict if k.ID or s.Hash is taken.
func (db *DB) CreateKey(ctx context.Context, k Key, s Secret, ev Event, more ...Event) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := insertKey(ctx, tx, k, s); err != nil {
			return err
		}
		return insertEvents(ctx, tx, append([]Event{ev}, more...))
	})
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

// insertKey inserts k and s after checking that k's API exists (and its
// owner, for a personal access token).
func insertKey(ctx context.Context, tx *sql.Tx, k Key, s Secret) error {
	v, err := encodeKey(k)
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM apis WHERE id = $1`, k.APIID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("api %s: %w", k.APIID, ErrNotFound)
	}
	if k.UserID != "" {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = $1`, k.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %s: %w", k.UserID, ErrNotFound)
		}
	}
	_, err = tx.ExecContext(ctx, insertKeySQL, k.ID, k.APIID, k.Subject, k.Name, k.Prefix, k.Start, k.End,
		v.scopes, v.expires, v.cidrs, v.limits,
		v.remaining, v.refillAmount, v.refillUS, v.refilled,
		v.metadata, k.Enabled, v.revoked, v.created, v.updated, micros(k.LastUsedAt), k.UsageCount,
		sql.NullString{String: k.UserID, Valid: k.UserID != ""}, k.RevokedReason,
		sql.NullString{String: k.SigningAlg, Valid: k.SigningAlg != ""}, k.SigningKey, k.JKT,
		k.Approval.State, k.Approval.Reason, micros(k.Approval.DecidedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("api %s: %w", k.APIID, ErrNotFound)
	}
	if err != nil {
		return conflict(err)
	}
	return insertSecret(ctx, tx, k.ID, s)
}

// KeyByID returns the key with the given ID, or ErrNotFound.
func (db *DB) KeyByID(ctx context.Context, id string) (Key, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyCols+` FROM keys k WHERE k.id = $1`, id))
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	return k, nil
}

// verifyQuery is KeyBySecretHash's one indexed lookup: key_secrets by
// primary key, then keys, apis and (for a personal access token) users by
// primary key.
const verifyQuery = `SELECT ` + secretCols + `, ` + keyCols + `, a.audience, a.policy, u.id, u.enabled, u.groups
FROM key_secrets s
JOIN keys k ON k.id = s.key_id
JOIN apis a ON a.id = k.api_id
LEFT JOIN users u ON u.id = k.user_id
WHERE s.hash = $1`

// KeyBySecretHash returns the secret with the given hash, its key and its
// API's audience, or ErrNotFound; for a personal access token also its
// owner's state and its API's policy. It does not judge the result: the
// caller checks expiry, revocation and the rest.
func (db *DB) KeyBySecretHash(ctx context.Context, hash [32]byte) (VerifyRecord, error) {
	var sr secretRow
	var kr keyRow
	var vr VerifyRecord
	var policy string
	var owner, groups sql.NullString
	var enabled sql.NullBool
	dest := append(append(sr.dest(), kr.dest()...), &vr.Audience, &policy, &owner, &enabled, &groups)
	if err := db.verify.QueryRowContext(ctx, hash[:]).Scan(dest...); err != nil {
		return VerifyRecord{}, fmt.Errorf("key by secret: %w", notFound(err))
	}
	var err error
	if vr.Secret, err = sr.secret(); err != nil {
		return VerifyRecord{}, fmt.Errorf("key by secret: %w", err)
	}
	if vr.Key, err = kr.key(); err != nil {
		return VerifyRecord{}, fmt.Errorf("key by secret: %w", err)
	}
	// Only a personal access token, or a key of an API that may require
	// signed requests, pays for decoding the policy and the owner's groups.
	if vr.Key.UserID == "" && !strings.Contains(policy, `"require_signed_requests"`) {
		return vr, nil
	}
	if vr.Policy, err = decodePolicy(policy); err != nil {
		return VerifyRecord{}, fmt.Errorf("key by secret: api %s policy: %w", vr.Key.APIID, err)
	}
	vr.RequireSigned = vr.Policy.RequireSignedRequests
	if vr.Key.UserID == "" {
		return vr, nil
	}
	if owner.Valid {
		vr.Owner = &Owner{Enabled: enabled.Bool}
		if vr.Owner.Groups, err = decodeStrings(groups.String); err != nil {
			return VerifyRecord{}, fmt.Errorf("key by secret: user %s groups: %w", owner.String, err)
		}
	}
	return vr, nil
}

// ListKeys returns up to f.Limit keys in f's order (see KeyFilter),
// starting after the cursor f.After, of f.APIID and with f.Subject
// where those are set: API keys, or with f.Personal personal access
// tokens (of f.UserID, if set). A cursor ListKeys did not make is
// ErrBadCursor.
func (db *DB) ListKeys(ctx context.Context, f KeyFilter) ([]Key, error) {
	q, args, err := keyListQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// keyListQuery is ListKeys's query and its arguments.
func keyListQuery(f KeyFilter) (string, []any, error) {
	if f.Limit < 1 {
		return "", nil, fmt.Errorf("limit %d is less than 1", f.Limit)
	}
	var w filter
	if f.APIID != "" {
		w.add("k.api_id = $?", f.APIID)
	}
	if f.Subject != "" {
		w.add("k.subject = $?", f.Subject)
	}
	switch {
	case !f.Personal:
		w.addCond("k.user_id IS NULL")
	case f.UserID != "":
		w.add("k.user_id = $?", f.UserID)
		w.addCond("k.user_id IS NOT NULL")
	default:
		w.addCond("k.user_id IS NOT NULL")
	}
	if err := keyStates(&w, f); err != nil {
		return "", nil, err
	}
	order := "k.id"
	if col := timeOrder(f); col != "" {
		order = col + ", k.id"
		if f.After != "" {
			at, id, err := splitCursor(f.After)
			if err != nil {
				return "", nil, err
			}
			// col >= at seeks in the index; the rest skips the ties
			// already shown.
			w.addArgs(col+" >= $1? AND ("+col+" > $1? OR k.id > $2?)", at, id)
		}
	} else if f.After != "" {
		w.add("k.id > $?", f.After)
	}
	q, args := w.page(`SELECT `+keyCols+` FROM keys k`, order, f.Limit)
	return q, args, nil
}

// UpdateKey loads the key with the given ID, lets update change it, saves
// it and writes the event update returns, all in one transaction.
// Revoking, disabling and changing settings all go through it. If update
// returns an error, nothing is written and that error is returned
// unchanged. ID, APIID, Prefix, UserID, CreatedAt, LastUsedAt and
// UsageCount cannot be changed. It returns ErrNotFound.
func (db *DB) UpdateKey(ctx context.Context, id string, update func(*Key) (Event, error)) (Key, error) {
	k, err := db.changeKey(ctx, id, nil, update)
	if err != nil {
		return Key{}, wrapUnlessCallback(err, "update key "+id)
	}
	return k, nil
}

// callbackError carries an error returned by a caller's update function
// out of the transaction, to be returned unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func wrapUnlessCallback(err error, op string) error {
	if ce, ok := err.(callbackError); ok {
		return ce.err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// changeKey is UpdateKey and RotateKey: in one transaction it loads the
// key, runs before (if set), lets update change the key, saves it and
// writes the event. It announces every secret of the key, the new one of
// a rotation included.
func (db *DB) changeKey(ctx context.Context, id string, before func(*sql.Tx) error, update func(*Key) (Event, error)) (Key, error) {
	var k Key
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		var err error
		if k, err = scanKey(tx.QueryRowContext(ctx, db.d.keyForUpdate, id)); err != nil {
			return err
		}
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		orig := k
		ev, err := update(&k)
		if err != nil {
			return callbackError{err}
		}
		k.ID, k.APIID, k.Prefix, k.CreatedAt, k.UserID = orig.ID, orig.APIID, orig.Prefix, orig.CreatedAt, orig.UserID
		k.LastUsedAt, k.UsageCount = orig.LastUsedAt, orig.UsageCount
		if err := saveKey(ctx, tx, k); err != nil {
			return err
		}
		if c.Secrets, err = secretsOf(ctx, tx, `s.key_id = $1`, k.ID); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	return k, err
}

// saveKey writes k's mutable columns.
func saveKey(ctx context.Context, tx *sql.Tx, k Key) error {
	v, err := encodeKey(k)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE keys SET subject = $2, name = $3, secret_start = $4, secret_end = $5,
	scopes = $6, expires_at = $7, allowed_cidrs = $8, ratelimits = $9,
	credits_remaining = $10, refill_amount = $11, refill_interval_us = $12, refilled_at = $13,
	metadata = $14, enabled = $15, revoked_at = $16, updated_at = $17, revoked_reason = $18,
	approval = $19, approval_reason = $20, approval_at = $21
WHERE id = $1`, k.ID, k.Subject, k.Name, k.Start, k.End,
		v.scopes, v.expires, v.cidrs, v.limits,
		v.remaining, v.refillAmount, v.refillUS, v.refilled,
		v.metadata, k.Enabled, v.revoked, v.updated, k.RevokedReason,
		k.Approval.State, k.Approval.Reason, micros(k.Approval.DecidedAt))
	return err
}

// The time orders of key lists, each the expression of its index
// (migration 0011, written the same way so that the planner matches it).
const (
	orderExpiry  = "k.expires_at"
	orderLastUse = "COALESCE(k.last_used_at, k.created_at)"
)

// timeOrder is the time expression f's pages are ordered by before the
// key ID, "" for ID order.
func timeOrder(f KeyFilter) string {
	switch {
	case !f.ExpiringBy.IsZero():
		return orderExpiry
	case !f.UnusedSince.IsZero():
		return orderLastUse
	}
	return ""
}

// keyStates adds f's conditions on the keys' state at f.Now.
func keyStates(w *filter, f KeyFilter) error {
	now := f.Now.UnixMicro()
	live := func() {
		w.addCond("k.revoked_at IS NULL")
		w.add("(k.expires_at IS NULL OR k.expires_at > $?)", now)
	}
	switch f.State {
	case "":
	case KeyActive, KeyDisabled:
		live()
		w.add("k.enabled = $?", f.State == KeyActive)
	case KeyRevoked:
		w.addCond("k.revoked_at IS NOT NULL")
	case KeyExpired:
		w.addCond("k.revoked_at IS NULL")
		w.add("k.expires_at <= $?", now)
	default:
		return fmt.Errorf("unknown key state %q", f.State)
	}
	if !f.ExpiringBy.IsZero() {
		w.addCond("k.revoked_at IS NULL")
		w.addArgs("k.expires_at > $1? AND k.expires_at <= $2?", now, f.ExpiringBy.UnixMicro())
	}
	if !f.UnusedSince.IsZero() {
		live()
		w.add(orderLastUse+" < $?", f.UnusedSince.UnixMicro())
	}
	return nil
}

// KeyCursor is the cursor of a page of f that ends with k: the page
// after it starts after k.
func KeyCursor(f KeyFilter, k Key) string {
	switch timeOrder(f) {
	case orderExpiry:
		return strconv.FormatInt(k.ExpiresAt.UnixMicro(), 10) + "." + k.ID
	case orderLastUse:
		t := k.LastUsedAt
		if t.IsZero() {
			t = k.CreatedAt
		}
		return strconv.FormatInt(t.UnixMicro(), 10) + "." + k.ID
	}
	return k.ID
}
