package apikey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// Personal access tokens are keys with an owner: a user who holds them
// for one API, with scopes their groups may hold there (the API's
// policy.user_scopes). They share the keys table, the verification
// engine, the usage bookkeeping and rotation with API keys, but never
// the key endpoints: every function of the key half refuses them as not
// found, and every function here refuses API keys so.
//
// The functions that take an owner are those a person calls for
// themselves (through a session or a PAT); a token of another owner is
// store.ErrNotFound to them, so that ids reveal nothing. The Admin…
// functions act on any token.

// ExpiringSoon is how close to its expiry a personal access token is
// flagged (api.Token.ExpiringSoon).
const ExpiringSoon = 7 * 24 * time.Hour

// ErrOwnerDisabled refuses a new personal access token for a disabled
// user.
var ErrOwnerDisabled = errors.New("the user is disabled and may hold no new token")

// CreatePAT creates a personal access token for user owner under req.APIID's
// policy: the scopes must be ones owner's groups may hold there, and the
// expiry is required (unless the policy allows none) and capped by the
// policy's maximum. by is owner acting for themselves or an admin. It
// returns the token and its secret, which exists nowhere else;
// store.ErrNotFound for an unknown owner; ErrOwnerDisabled; or a
// *valid.Error.
func (s *Service) CreatePAT(ctx context.Context, by audit.Actor, owner string, req api.CreateTokenRequest) (store.Key, string, error) {
	u, err := s.db.UserByID(ctx, owner)
	if err != nil {
		return store.Key{}, "", err
	}
	if !u.Enabled {
		return store.Key{}, "", ErrOwnerDisabled
	}
	a, err := s.db.APIByID(ctx, req.APIID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Key{}, "", valid.Errorf("api_id", "no API has this id")
	}
	if err != nil {
		return store.Key{}, "", err
	}
	now := s.clock()
	k := store.Key{ID: ids.New("pat", now), APIID: a.ID, Prefix: credential.PersonalTokenPrefix, Subject: u.ID,
		UserID: u.ID, Name: req.Name, Scopes: nonNil(req.Scopes), Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.settlePAT(&k, a, u, req, now); err != nil {
		return store.Key{}, "", err
	}
	if k.JKT, err = boundKey(req.DPoPJWK); err != nil {
		return store.Key{}, "", err
	}
	if NeedsApproval(a.Policy, k.Scopes) {
		k.Approval.State = store.ApprovalPending
	}
	token := credential.Generate(credential.PersonalTokenPrefix)
	sec := secretFor(token, k.ID, now)
	k.Start, k.End = sec.Start, sec.End
	evs, err := patEvents(by, now, k)
	if err != nil {
		return store.Key{}, "", err
	}
	if err := s.db.CreateKey(ctx, k, sec, evs[0], evs[1:]...); err != nil {
		return store.Key{}, "", fmt.Errorf("create personal access token: %w", err)
	}
	return k, token, nil
}

// patEvents are the audit events of a new personal access token:
// pat.create, and approval.requested when it is pending.
func patEvents(by audit.Actor, now time.Time, k store.Key) ([]store.Event, error) {
	ev, err := audit.Change(by, now, "pat.create", "pat", k.ID, nil, auditKey(k))
	if err != nil || k.Approval.State != store.ApprovalPending {
		return []store.Event{ev}, err
	}
	req, err := audit.Change(by, now, "approval.requested", "pat", k.ID, nil, ApprovalRequest{
		Kind: api.ApprovalKindToken, State: store.ApprovalPending, Name: k.Name, UserID: k.UserID,
		APIScopes: map[string][]string{k.APIID: k.Scopes}})
	return []store.Event{ev, req}, err
}

// ApprovalRequest is what an approval.requested event records (its
// after): the credential held for approval, and what it asks for.
type ApprovalRequest struct {
	Kind      string              `json:"kind"`
	State     string              `json:"state"`
	Name      string              `json:"name"`
	UserID    string              `json:"user_id,omitempty"`
	APIScopes map[string][]string `json:"api_scopes"`
}

// NeedsApproval reports whether a personal access token with scopes
// waits for an administrator's approval under p: it asks for one of
// p.PATApprovalScopes.
func NeedsApproval(p store.Policy, scopes []string) bool {
	for _, sc := range scopes {
		if slices.Contains(p.PATApprovalScopes, sc) {
			return true
		}
	}
	return false
}

// settlePAT validates and fills the settings of a new personal access
// token.
func (s *Service) settlePAT(k *store.Key, a store.API, u store.User, req api.CreateTokenRequest, now time.Time) error {
	if err := valid.Text("name", req.Name, 1, 200); err != nil {
		return err
	}
	if err := valid.Scopes("scopes", k.Scopes); err != nil {
		return err
	}
	grantable, eligible := Grantable(a.Policy, u.Groups)
	if !eligible {
		return valid.Errorf("api_id", "the API's policy lets none of the user's groups hold personal access tokens")
	}
	for _, sc := range k.Scopes {
		if !slices.Contains(grantable, sc) {
			return valid.Errorf("scopes", "%q: the API's policy does not grant it to the user's groups", sc)
		}
	}
	var err error
	if k.ExpiresAt, err = patExpiry(a.Policy, req, now); err != nil {
		return err
	}
	if req.RateLimits == nil {
		k.RateLimits = a.Policy.DefaultRateLimits
	} else if k.RateLimits, err = checkLimits("ratelimits", req.RateLimits); err != nil {
		return err
	}
	if k.AllowedCIDRs, err = s.cidrs(a, req.AllowedCIDRs); err != nil {
		return err
	}
	if a.Policy.RequireIPAllowlist && len(k.AllowedCIDRs) == 0 {
		return valid.Errorf("allowed_cidrs", "the API's policy requires an IP allowlist")
	}
	return nil
}

// patExpiry applies the API's expiry policy to a new personal access
// token: an expiry is required unless the policy allows none, and one
// beyond the policy's maximum is refused rather than shortened.
func patExpiry(p store.Policy, req api.CreateTokenRequest, now time.Time) (time.Time, error) {
	if req.ExpiresAt != nil && req.TTL != nil {
		return time.Time{}, valid.Errorf("ttl", "give expires_at or ttl, not both")
	}
	var exp time.Time
	switch {
	case req.ExpiresAt != nil:
		if err := checkExpiresAt(*req.ExpiresAt); err != nil {
			return time.Time{}, err
		}
		exp = req.ExpiresAt.UTC().Truncate(time.Microsecond)
	case req.TTL != nil:
		if err := valid.Duration("ttl", req.TTL.Std(), time.Second, MaxTTL); err != nil {
			return time.Time{}, err
		}
		exp = now.Add(req.TTL.Std())
	case p.PATAllowNoExpiry:
		return time.Time{}, nil
	default:
		return time.Time{}, valid.Errorf("expires_at", "is required: the API's policy does not allow personal access tokens without expiry")
	}
	if !exp.After(now) {
		return time.Time{}, valid.Errorf("expires_at", "must be in the future")
	}
	if max := patMaxTTL(p); max > 0 && exp.After(now.Add(max)) {
		return time.Time{}, valid.Errorf("expires_at", "is beyond the API's maximum lifetime of personal access tokens, %s", max)
	}
	return exp, nil
}

// PATs returns a page of owner's personal access tokens in id order,
// starting after after; limit is at least 1.
func (s *Service) PATs(ctx context.Context, owner, after string, limit int) ([]store.Key, error) {
	if owner == "" {
		return nil, store.ErrNotFound
	}
	return s.db.ListKeys(ctx, store.KeyFilter{Personal: true, UserID: owner, After: after, Limit: limit})
}

// UserPATs is PATs for an admin: store.ErrNotFound when the user does not
// exist, so that an unknown user is not an empty list.
func (s *Service) UserPATs(ctx context.Context, owner, after string, limit int) ([]store.Key, error) {
	if _, err := s.db.UserByID(ctx, owner); err != nil {
		return nil, err
	}
	return s.PATs(ctx, owner, after, limit)
}

// PAT returns owner's personal access token id, or store.ErrNotFound.
func (s *Service) PAT(ctx context.Context, owner, id string) (store.Key, error) {
	return s.pat(ctx, id, ownedBy(owner))
}

// AdminPAT returns personal access token id, or store.ErrNotFound.
func (s *Service) AdminPAT(ctx context.Context, id string) (store.Key, error) {
	return s.pat(ctx, id, anyOwner)
}

// ownerCheck reports whether a caller may act on a token (the key is a
// personal access token: UserID is set).
type ownerCheck func(store.Key) bool

func ownedBy(owner string) ownerCheck {
	return func(k store.Key) bool { return owner != "" && k.UserID == owner }
}

func anyOwner(store.Key) bool { return true }

func (s *Service) pat(ctx context.Context, id string, may ownerCheck) (store.Key, error) {
	k, err := s.db.KeyByID(ctx, id)
	if err != nil {
		return store.Key{}, err
	}
	if k.UserID == "" || !may(k) {
		return store.Key{}, fmt.Errorf("personal access token %s: %w", id, store.ErrNotFound)
	}
	return k, nil
}

// RegeneratePAT gives owner's token id a new secret with all its
// settings; the old secret stays valid for grace (0 to 7 days). It
// returns the token and its new secret, store.ErrNotFound, ErrRevoked
// or *valid.Error.
func (s *Service) RegeneratePAT(ctx context.Context, by audit.Actor, owner, id string, grace time.Duration) (store.Key, string, error) {
	return s.regenerate(ctx, by, id, grace, ownedBy(owner))
}

// AdminRegeneratePAT is RegeneratePAT for any owner's token.
func (s *Service) AdminRegeneratePAT(ctx context.Context, by audit.Actor, id string, grace time.Duration) (store.Key, string, error) {
	return s.regenerate(ctx, by, id, grace, anyOwner)
}

func (s *Service) regenerate(ctx context.Context, by audit.Actor, id string, grace time.Duration, may ownerCheck) (store.Key, string, error) {
	if err := valid.Duration("grace", grace, 0, MaxGrace); err != nil {
		return store.Key{}, "", err
	}
	if _, err := s.pat(ctx, id, may); err != nil {
		return store.Key{}, "", err
	}
	now := s.clock()
	token := credential.Generate(credential.PersonalTokenPrefix)
	sec := secretFor(token, id, now)
	k, err := s.db.RotateKey(ctx, id, sec, now.Add(grace), func(k *store.Key) (store.Event, error) {
		if !k.RevokedAt.IsZero() {
			return store.Event{}, ErrRevoked
		}
		before := auditKey(*k)
		k.Start, k.End, k.UpdatedAt = sec.Start, sec.End, now
		ev, err := audit.Change(by, now, "pat.regenerate", "pat", k.ID, before, auditKey(*k))
		ev.After = fmt.Appendf(ev.After[:len(ev.After)-1], `,"grace":%q}`, grace.String())
		return ev, err
	})
	if err != nil {
		return store.Key{}, "", err
	}
	return k, token, nil
}

// RevokePAT revokes owner's token id and every secret of it, on every
// node for the next request. Revoking a revoked token changes nothing and
// is not an error. It returns store.ErrNotFound.
func (s *Service) RevokePAT(ctx context.Context, by audit.Actor, owner, id string) (store.Key, error) {
	return s.revokePAT(ctx, by, id, ownedBy(owner))
}

// AdminRevokePAT is RevokePAT for any owner's token.
func (s *Service) AdminRevokePAT(ctx context.Context, by audit.Actor, id string) (store.Key, error) {
	return s.revokePAT(ctx, by, id, anyOwner)
}

func (s *Service) revokePAT(ctx context.Context, by audit.Actor, id string, may ownerCheck) (store.Key, error) {
	now := s.clock()
	k, err := s.db.UpdateKey(ctx, id, func(k *store.Key) (store.Event, error) {
		if k.UserID == "" || !may(*k) {
			return store.Event{}, fmt.Errorf("personal access token %s: %w", id, store.ErrNotFound)
		}
		if !k.RevokedAt.IsZero() {
			return store.Event{}, errUnchanged
		}
		before := auditKey(*k)
		k.RevokedAt, k.UpdatedAt = now, now
		return audit.Change(by, now, "pat.revoke", "pat", k.ID, before, auditKey(*k))
	})
	if errors.Is(err, errUnchanged) {
		return s.db.KeyByID(ctx, id)
	}
	return k, err
}

// TokenView is the wire form of a personal access token at now. It holds
// no secret.
func TokenView(k store.Key, now time.Time) api.Token {
	v := api.Token{ID: k.ID, UserID: k.UserID, APIID: k.APIID, Name: k.Name, Prefix: k.Prefix, Start: k.Start,
		End: k.End, Scopes: nonNil(k.Scopes), ExpiresAt: timePtr(k.ExpiresAt), AllowedCIDRs: k.AllowedCIDRs,
		RateLimits: limitsView(k.RateLimits), RevokedAt: timePtr(k.RevokedAt), RevokedReason: k.RevokedReason, CreatedAt: k.CreatedAt,
		UpdatedAt: k.UpdatedAt, LastUsedAt: timePtr(k.LastUsedAt), UsageCount: k.UsageCount, DPoPJKT: k.JKT,
		Approval: ApprovalView(k.Approval)}
	v.ExpiringSoon = k.RevokedAt.IsZero() && !k.ExpiresAt.IsZero() && k.ExpiresAt.After(now) &&
		!k.ExpiresAt.After(now.Add(ExpiringSoon))
	return v
}

// Now is the service's clock, for views that depend on the time
// (TokenView).
func (s *Service) Now() time.Time { return s.clock() }
