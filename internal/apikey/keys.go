package apikey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// MaxGrace is the longest an old secret may outlive its rotation.
const MaxGrace = 7 * 24 * time.Hour

// ErrRevoked is returned for changes a revoked key no longer accepts.
var ErrRevoked = errors.New("key is revoked")

// CreateKey validates req under its API's policy and creates the key. It
// returns the key and its secret, which exists nowhere else, or a
// *valid.Error. A key with an hmac-sha256 signing secret is made by
// IssueKey, which returns that secret too.
func (s *Service) CreateKey(ctx context.Context, by audit.Actor, req api.CreateKeyRequest) (store.Key, string, error) {
	if req.Signing != nil && req.Signing.Alg == api.SigHMACSHA256 {
		return store.Key{}, "", valid.Errorf("signing.alg", "this caller cannot return an hmac-sha256 signing secret")
	}
	c, err := s.IssueKey(ctx, by, req)
	return c.Key, c.Secret, err
}

// Issued is a new key and what is shown of it once: its secret and, for
// an hmac-sha256 signing key, the signing secret.
type Issued struct {
	Key           store.Key
	Secret        string
	SigningSecret []byte
}

// IssueKey is CreateKey, returning the signing secret as well.
func (s *Service) IssueKey(ctx context.Context, by audit.Actor, req api.CreateKeyRequest) (Issued, error) {
	a, err := s.db.APIByID(ctx, req.APIID)
	if errors.Is(err, store.ErrNotFound) {
		return Issued{}, valid.Errorf("api_id", "no API has this id")
	}
	if err != nil {
		return Issued{}, err
	}
	now := s.clock()
	if string(req.Metadata) == "null" {
		req.Metadata = nil // as absent, so that no answer holds "metadata": null
	}
	k := store.Key{ID: ids.New("key", now), APIID: a.ID, Prefix: a.KeyPrefix, Subject: req.Subject, Name: req.Name,
		Scopes: nonNil(req.Scopes), Metadata: req.Metadata, Enabled: req.Enabled == nil || *req.Enabled,
		CreatedAt: now, UpdatedAt: now}
	if err := s.settle(&k, a, req, now); err != nil {
		return Issued{}, err
	}
	signing, err := s.settleSigning(&k, a, req.Signing)
	if err != nil {
		return Issued{}, err
	}
	if k.JKT, err = boundKey(req.DPoPJWK); err != nil {
		return Issued{}, err
	}
	token := credential.Generate(a.KeyPrefix)
	sec := secretFor(token, k.ID, now)
	k.Start, k.End = sec.Start, sec.End
	ev, err := audit.Change(by, now, "key.create", "key", k.ID, nil, auditKey(k))
	if err != nil {
		return Issued{}, err
	}
	if err := s.db.CreateKey(ctx, k, sec, ev); err != nil {
		return Issued{}, fmt.Errorf("create key: %w", err)
	}
	return Issued{Key: k, Secret: token, SigningSecret: signing}, nil
}

// settle validates and fills the settings of a new key.
func (s *Service) settle(k *store.Key, a store.API, req api.CreateKeyRequest, now time.Time) error {
	if req.ExpiresAt != nil && req.TTL != nil {
		return valid.Errorf("ttl", "give expires_at or ttl, not both")
	}
	exp := time.Time{}
	if req.ExpiresAt != nil {
		if err := checkExpiresAt(*req.ExpiresAt); err != nil {
			return err
		}
		exp = req.ExpiresAt.UTC().Truncate(time.Microsecond)
	}
	if req.TTL != nil {
		if err := valid.Duration("ttl", req.TTL.Std(), time.Second, MaxTTL); err != nil {
			return err
		}
		exp = now.Add(req.TTL.Std())
	}
	var err error
	if k.ExpiresAt, err = capExpiry(a.Policy, exp, now); err != nil {
		return err
	}
	if req.RateLimits == nil {
		k.RateLimits = a.Policy.DefaultRateLimits
	} else if k.RateLimits, err = checkLimits("ratelimits", req.RateLimits); err != nil {
		return err
	}
	if k.Credits, err = credits(req.Credits, now); err != nil {
		return err
	}
	if k.AllowedCIDRs, err = s.cidrs(a, req.AllowedCIDRs); err != nil {
		return err
	}
	return checkKey(k, a)
}

// checkKey validates the settings every key must satisfy, at creation and
// after every update.
func checkKey(k *store.Key, a store.API) error {
	if err := valid.Text("subject", k.Subject, 1, 256); err != nil {
		return err
	}
	if err := valid.Text("name", k.Name, 0, 200); err != nil {
		return err
	}
	if err := valid.Scopes("scopes", k.Scopes); err != nil {
		return err
	}
	if err := valid.Subset("scopes", k.Scopes, a.Scopes); err != nil {
		return err
	}
	if a.Policy.RequireIPAllowlist && len(k.AllowedCIDRs) == 0 {
		return valid.Errorf("allowed_cidrs", "the API's policy requires an IP allowlist")
	}
	return valid.Metadata("metadata", k.Metadata)
}

func (s *Service) cidrs(a store.API, cs []string) ([]string, error) {
	out, err := valid.CIDRs("allowed_cidrs", cs)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// Bounds of key lifetimes. Every time and duration tokend accepts has one,
// so that no arithmetic on it can overflow (int64 nanoseconds end in 2262).
const (
	// MaxTTL is the longest ttl and max_key_ttl: 100 years.
	MaxTTL = 100 * 8766 * time.Hour
	// MaxRefillInterval is the longest credit refill interval.
	MaxRefillInterval = 366 * 24 * time.Hour
)

// maxExpiresAt is the latest expires_at: the end of year 9999, the
// largest year RFC 3339 can write.
var maxExpiresAt = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)

// checkExpiresAt refuses the zero time (0001-01-01T00:00:00Z), which would
// otherwise read as "no expiry", and times past maxExpiresAt.
func checkExpiresAt(t time.Time) error {
	switch {
	case t.IsZero():
		return valid.Errorf("expires_at", "0001-01-01T00:00:00Z is not an expiry; leave the field out (or null in PATCH) for none")
	case t.After(maxExpiresAt):
		return valid.Errorf("expires_at", "must be at most 9999-12-31T23:59:59Z")
	}
	return nil
}

// capExpiry applies the API's maximum lifetime: a key without an expiry
// gets exactly the maximum, and a later expiry is refused rather than
// silently shortened.
func capExpiry(p store.Policy, exp, now time.Time) (time.Time, error) {
	if !exp.IsZero() && !exp.After(now) {
		return time.Time{}, valid.Errorf("expires_at", "must be in the future")
	}
	if p.MaxKeyTTL <= 0 {
		return exp, nil
	}
	limit := now.Add(p.MaxKeyTTL)
	if exp.IsZero() {
		return limit, nil
	}
	if exp.After(limit) {
		return time.Time{}, valid.Errorf("expires_at", "is beyond the API's max_key_ttl of %s", p.MaxKeyTTL)
	}
	return exp, nil
}

func credits(c *api.Credits, now time.Time) (*store.Credits, error) {
	if c == nil {
		return nil, nil
	}
	if c.Remaining < 0 {
		return nil, valid.Errorf("credits.remaining", "must not be negative")
	}
	out := &store.Credits{Remaining: c.Remaining}
	if r := c.Refill; r != nil {
		if r.Amount < 1 || r.Interval.Std() < time.Second || r.Interval.Std() > MaxRefillInterval {
			return nil, valid.Errorf("credits.refill", "needs an amount of at least 1 and an interval between 1s and %s", fmtDays(MaxRefillInterval))
		}
		out.RefillAmount, out.RefillInterval, out.RefilledAt = r.Amount, r.Interval.Std(), now
	}
	return out, nil
}

func secretFor(token, keyID string, now time.Time) store.Secret {
	start, end := credential.Display(token)
	return store.Secret{Hash: credential.Hash(token), KeyID: keyID, Start: start, End: end, CreatedAt: now}
}

// boundKey returns the thumbprint of the DPoP key jwk a new key or
// personal access token is bound to, "" for none.
func boundKey(jwk json.RawMessage) (string, error) {
	if len(jwk) == 0 {
		return "", nil
	}
	jkt, err := dpop.PublicKeyThumbprint(jwk)
	if err != nil {
		return "", valid.Errorf("dpop_jwk", "%s", err)
	}
	return jkt, nil
}
