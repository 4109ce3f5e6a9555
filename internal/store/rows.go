package store

import (
	"database/sql"
	"fmt"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

const apiCols = `id, name, audience, scopes, key_prefix, policy, created_at, updated_at`

func scanAPI(s scanner) (API, error) {
	var a API
	var scopes, policy string
	var created, updated sql.NullInt64
	err := s.Scan(&a.ID, &a.Name, &a.Audience, &scopes, &a.KeyPrefix, &policy, &created, &updated)
	if err != nil {
		return API{}, notFound(err)
	}
	if a.Scopes, err = decodeStrings(scopes); err != nil {
		return API{}, fmt.Errorf("api %s scopes: %w", a.ID, err)
	}
	if a.Policy, err = decodePolicy(policy); err != nil {
		return API{}, fmt.Errorf("api %s policy: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

// apiValues are the stored forms of an API's JSON columns.
type apiValues struct{ scopes, policy string }

func encodeAPI(a API) (apiValues, error) {
	var v apiValues
	var err error
	if v.scopes, err = encodeJSON(a.Scopes); err != nil {
		return v, err
	}
	v.policy, err = encodePolicy(a.Policy)
	return v, err
}

// keyCols lists the keys columns in scan order, qualified by the alias k.
const keyCols = `k.id, k.api_id, k.subject, k.name, k.prefix, k.secret_start, k.secret_end,
	k.scopes, k.expires_at, k.allowed_cidrs, k.ratelimits,
	k.credits_remaining, k.refill_amount, k.refill_interval_us, k.refilled_at,
	k.metadata, k.enabled, k.revoked_at, k.created_at, k.updated_at, k.last_used_at, k.usage_count, k.user_id,
	k.revoked_reason, k.signing_alg, k.signing_key, k.jkt, k.approval, k.approval_reason, k.approval_at`

// keyRow receives one row of keyCols.
type keyRow struct {
	k                                                  Key
	scopes, cidrs, limits                              string
	metadata, userID, signingAlg                       sql.NullString
	expires, revoked, created, updated, used, refilled sql.NullInt64
	remaining, approvalAt                              sql.NullInt64
	refillAmount, refillUS                             int64
}

func (r *keyRow) dest() []any {
	k := &r.k
	return []any{&k.ID, &k.APIID, &k.Subject, &k.Name, &k.Prefix, &k.Start, &k.End,
		&r.scopes, &r.expires, &r.cidrs, &r.limits,
		&r.remaining, &r.refillAmount, &r.refillUS, &r.refilled,
		&r.metadata, &k.Enabled, &r.revoked, &r.created, &r.updated, &r.used, &k.UsageCount, &r.userID, &k.RevokedReason,
		&r.signingAlg, &k.SigningKey, &k.JKT, &k.Approval.State, &k.Approval.Reason, &r.approvalAt}
}

func (r *keyRow) key() (Key, error) {
	k := r.k
	var err error
	if k.Scopes, err = decodeStrings(r.scopes); err != nil {
		return Key{}, fmt.Errorf("key %s scopes: %w", k.ID, err)
	}
	if k.AllowedCIDRs, err = decodeStrings(r.cidrs); err != nil {
		return Key{}, fmt.Errorf("key %s allowed cidrs: %w", k.ID, err)
	}
	if k.RateLimits, err = decodeRateLimits(r.limits); err != nil {
		return Key{}, fmt.Errorf("key %s rate limits: %w", k.ID, err)
	}
	if r.remaining.Valid {
		k.Credits = &Credits{
			Remaining:      r.remaining.Int64,
			RefillAmount:   r.refillAmount,
			RefillInterval: durationFromMicros(r.refillUS),
			RefilledAt:     fromMicros(r.refilled),
		}
	}
	k.Metadata = fromJSONText(r.metadata)
	k.ExpiresAt, k.RevokedAt = fromMicros(r.expires), fromMicros(r.revoked)
	k.CreatedAt, k.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	k.LastUsedAt = fromMicros(r.used)
	k.UserID = r.userID.String
	k.SigningAlg = r.signingAlg.String
	k.Approval.DecidedAt = fromMicros(r.approvalAt)
	return k, nil
}

func scanKey(s scanner) (Key, error) {
	var r keyRow
	if err := s.Scan(r.dest()...); err != nil {
		return Key{}, notFound(err)
	}
	return r.key()
}

// keyValues are the stored forms of a Key's encoded columns.
type keyValues struct {
	scopes, cidrs, limits  string
	metadata               sql.NullString
	remaining, refilled    sql.NullInt64
	refillAmount, refillUS int64
	expires, revoked       sql.NullInt64
	created, updated       int64
}

func encodeKey(k Key) (keyValues, error) {
	var v keyValues
	var err error
	if v.scopes, err = encodeJSON(k.Scopes); err != nil {
		return v, err
	}
	if v.cidrs, err = encodeJSON(k.AllowedCIDRs); err != nil {
		return v, err
	}
	if v.limits, err = encodeRateLimits(k.RateLimits); err != nil {
		return v, err
	}
	if v.metadata, err = jsonText("metadata", k.Metadata); err != nil {
		return v, err
	}
	if c := k.Credits; c != nil {
		v.remaining = sql.NullInt64{Int64: c.Remaining, Valid: true}
		v.refillAmount, v.refillUS = c.RefillAmount, c.RefillInterval.Microseconds()
		v.refilled = micros(c.RefilledAt)
	}
	v.expires, v.revoked = micros(k.ExpiresAt), micros(k.RevokedAt)
	if v.created, err = mustTime("created time", k.CreatedAt); err != nil {
		return v, err
	}
	v.updated, err = mustTime("updated time", k.UpdatedAt)
	return v, err
}

const secretCols = `s.hash, s.key_id, s.secret_start, s.secret_end, s.created_at, s.expires_at`

// secretRow receives one row of secretCols.
type secretRow struct {
	s                Secret
	hash             []byte
	created, expires sql.NullInt64
}

func (r *secretRow) dest() []any {
	return []any{&r.hash, &r.s.KeyID, &r.s.Start, &r.s.End, &r.created, &r.expires}
}

func (r *secretRow) secret() (Secret, error) {
	s := r.s
	if len(r.hash) != len(s.Hash) {
		return Secret{}, fmt.Errorf("secret of key %s: hash has %d bytes", s.KeyID, len(r.hash))
	}
	copy(s.Hash[:], r.hash)
	s.CreatedAt, s.ExpiresAt = fromMicros(r.created), fromMicros(r.expires)
	return s, nil
}
