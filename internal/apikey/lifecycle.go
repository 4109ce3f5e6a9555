package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// UpdateKey applies req to key id: every setting but the secret. It
// returns store.ErrNotFound or *valid.Error; a refused change changes
// nothing.
func (s *Service) UpdateKey(ctx context.Context, by audit.Actor, id string, req api.UpdateKeyRequest) (store.Key, error) {
	k0, err := s.Key(ctx, id)
	if err != nil {
		return store.Key{}, err
	}
	a, err := s.db.APIByID(ctx, k0.APIID)
	if err != nil {
		return store.Key{}, err
	}
	now := s.clock()
	k, err := s.db.UpdateKey(ctx, id, func(k *store.Key) (store.Event, error) {
		if k.UserID != "" {
			return store.Event{}, errPersonal(id)
		}
		before, was := auditKey(*k), *k
		if err := apply(k, a, req, now); err != nil {
			return store.Event{}, err
		}
		if audit.Same(was, *k) {
			return store.Event{}, errUnchanged // no event, no new updated_at
		}
		k.UpdatedAt = now
		return audit.Change(by, now, "key.update", "key", k.ID, before, auditKey(*k))
	})
	if errors.Is(err, errUnchanged) {
		return s.Key(ctx, id)
	}
	if err != nil {
		return store.Key{}, err
	}
	return k, nil
}

func apply(k *store.Key, a store.API, req api.UpdateKeyRequest, now time.Time) error {
	setIf(&k.Subject, req.Subject)
	setIf(&k.Name, req.Name)
	setIf(&k.Enabled, req.Enabled)
	if req.Scopes != nil {
		k.Scopes = nonNil(*req.Scopes)
	}
	if len(req.Metadata) > 0 {
		k.Metadata = req.Metadata
		if string(req.Metadata) == "null" {
			k.Metadata = nil
		}
	}
	var err error
	if req.AllowedCIDRs != nil {
		if k.AllowedCIDRs, err = valid.CIDRs("allowed_cidrs", *req.AllowedCIDRs); err != nil {
			return err
		}
	}
	if req.RateLimits != nil {
		if k.RateLimits, err = checkLimits("ratelimits", *req.RateLimits); err != nil {
			return err
		}
	}
	if req.Credits.Set {
		c := &req.Credits.Value
		if req.Credits.Null {
			c = nil
		}
		if k.Credits, err = credits(c, now); err != nil {
			return err
		}
	}
	if req.ExpiresAt.Set {
		exp := req.ExpiresAt.Value.UTC().Truncate(time.Microsecond)
		if !req.ExpiresAt.Null {
			if err := checkExpiresAt(req.ExpiresAt.Value); err != nil {
				return err
			}
		} else {
			if a.Policy.MaxKeyTTL > 0 {
				return valid.Errorf("expires_at", "cannot be cleared: the API's max_key_ttl is %s", a.Policy.MaxKeyTTL)
			}
			exp = time.Time{}
		}
		if k.ExpiresAt, err = capExpiry(a.Policy, exp, now); err != nil {
			return err
		}
	}
	return checkKey(k, a)
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// RotateKey gives key id a new secret with all its settings; the old
// secret stays valid for grace (0 to 7 days) and no longer. It returns
// the key and the new secret, store.ErrNotFound, ErrRevoked or
// *valid.Error.
func (s *Service) RotateKey(ctx context.Context, by audit.Actor, id string, grace time.Duration) (store.Key, string, error) {
	if err := valid.Duration("grace", grace, 0, MaxGrace); err != nil {
		return store.Key{}, "", err
	}
	k0, err := s.Key(ctx, id)
	if err != nil {
		return store.Key{}, "", err
	}
	now := s.clock()
	token := credential.Generate(k0.Prefix)
	sec := secretFor(token, id, now)
	k, err := s.db.RotateKey(ctx, id, sec, now.Add(grace), func(k *store.Key) (store.Event, error) {
		if k.UserID != "" {
			return store.Event{}, errPersonal(id)
		}
		if !k.RevokedAt.IsZero() {
			return store.Event{}, ErrRevoked
		}
		before := auditKey(*k)
		k.Start, k.End, k.UpdatedAt = sec.Start, sec.End, now
		ev, err := audit.Change(by, now, "key.rotate", "key", k.ID, before, auditKey(*k))
		ev.After = fmt.Appendf(ev.After[:len(ev.After)-1], `,"grace":%q}`, grace.String())
		return ev, err
	})
	if err != nil {
		return store.Key{}, "", err
	}
	return k, token, nil
}

// errUnchanged rolls back an update that has nothing to do.
var errUnchanged = errors.New("unchanged")

// RevokeKey revokes key id and every secret of it, for the next request.
// Revoking a revoked key changes nothing and is not an error. It returns
// store.ErrNotFound.
func (s *Service) RevokeKey(ctx context.Context, by audit.Actor, id string) (store.Key, error) {
	now := s.clock()
	k, err := s.db.UpdateKey(ctx, id, func(k *store.Key) (store.Event, error) {
		if k.UserID != "" {
			return store.Event{}, errPersonal(id)
		}
		if !k.RevokedAt.IsZero() {
			return store.Event{}, errUnchanged
		}
		before := auditKey(*k)
		k.RevokedAt, k.UpdatedAt = now, now
		return audit.Change(by, now, "key.revoke", "key", k.ID, before, auditKey(*k))
	})
	if errors.Is(err, errUnchanged) {
		return s.Key(ctx, id)
	}
	if err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// sweepEvery is how often Run sweeps.
const sweepEvery = time.Hour

// Run sweeps once at start and then once an hour until ctx ends: it
// notices personal access tokens about to expire (NoticeExpiringPATs)
// and deletes secrets whose rotation grace ended more than an hour ago.
// Such secrets can never verify again; that sweep only keeps the table
// small.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep is one round of Run.
func (s *Service) sweep(ctx context.Context) {
	if n, err := s.NoticeExpiringPATs(ctx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "notice expiring personal access tokens", "err", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "noticed expiring personal access tokens", "count", n)
	}
	if n, err := s.db.DeleteExpiredSecrets(ctx, s.clock().Add(-time.Hour)); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "sweep expired secrets", "err", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "swept expired secrets", "count", n)
	}
}
