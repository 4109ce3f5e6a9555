// Package approval owns the administrators' half of the approval step:
// the list of credentials an API's policy holds for a decision (personal
// access tokens asking an approval-gated scope, dynamically registered
// OAuth clients), and the decisions, approve or deny with a reason.
//
// Whether a new credential must wait is decided where it is made
// (apikey.NeedsApproval, package oauth's registration), which also writes
// its approval.requested event; this package never creates credentials.
// Each decision is one store transaction that changes the credential and
// writes approval.approved or approval.denied, and the store announces
// the credential on its invalidation channel, so that every node answers
// by the decision within a second. A denied personal access token is
// revoked with it (reason api.RevokedDenied); a denied client stays, so
// that its registrant can read the outcome, but never gets a token.
package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// ErrDecided refuses a decision on a credential already approved or
// denied: a decision is final.
var ErrDecided = errors.New("the credential's approval was decided already; a decision is final")

// MaxReason bounds the reason of a decision, in characters.
const MaxReason = 500

// Service lists and decides approvals. It is safe for concurrent use.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Service over db; now nil means time.Now.
func New(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// List returns up to limit credentials whose approval is in state
// (api.ApprovalPending, api.ApprovalApproved or api.ApprovalDenied; ""
// means pending), oldest first, starting after the cursor after. An
// unknown state is a *valid.Error; a cursor List did not make is
// store.ErrBadCursor.
func (s *Service) List(ctx context.Context, state, after string, limit int) ([]store.ApprovalItem, error) {
	switch state {
	case "":
		state = store.ApprovalPending
	case store.ApprovalPending, store.ApprovalApproved, store.ApprovalDenied:
	default:
		return nil, valid.Errorf("state", "must be pending, approved or denied")
	}
	if err := store.CheckApprovalCursor(after); err != nil {
		return nil, err
	}
	return s.db.ListApprovals(ctx, store.ApprovalFilter{State: state, After: after, Limit: limit})
}

// Get returns the credential id that has an approval, or
// store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (store.ApprovalItem, error) {
	k, err := s.db.KeyByID(ctx, id)
	if err == nil && k.UserID != "" && k.Approval.State != "" {
		return store.ApprovalItem{Key: &k}, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.ApprovalItem{}, err
	}
	c, err := s.db.ClientByID(ctx, id)
	if err == nil && c.Approval.State != "" {
		return store.ApprovalItem{Client: &c}, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.ApprovalItem{}, err
	}
	return store.ApprovalItem{}, fmt.Errorf("approval %s: %w", id, store.ErrNotFound)
}

// Approve approves the pending credential id: a personal access token
// verifies from then on, a client may get tokens. reason may be empty.
// It returns store.ErrNotFound, ErrDecided, apikey.ErrRevoked (a token
// its owner revoked meanwhile) or a *valid.Error.
func (s *Service) Approve(ctx context.Context, by audit.Actor, id, reason string) (store.ApprovalItem, error) {
	if err := checkReason(reason, 0); err != nil {
		return store.ApprovalItem{}, err
	}
	return s.decide(ctx, by, id, store.Approval{State: store.ApprovalApproved, Reason: reason})
}

// Deny denies the pending credential id for reason (required): a
// personal access token is revoked, a client never gets a token. It
// returns store.ErrNotFound, ErrDecided or a *valid.Error.
func (s *Service) Deny(ctx context.Context, by audit.Actor, id, reason string) (store.ApprovalItem, error) {
	if err := checkReason(reason, 1); err != nil {
		return store.ApprovalItem{}, err
	}
	return s.decide(ctx, by, id, store.Approval{State: store.ApprovalDenied, Reason: reason})
}

func checkReason(reason string, least int) error {
	if reason == "" && least == 0 {
		return nil
	}
	if reason == "" {
		return valid.Errorf("reason", "is required to deny: the owner is shown it")
	}
	return valid.Text("reason", reason, 1, MaxReason)
}

// decide records decision on credential id, in one transaction with its
// event. The store announces the credential: every node drops what it
// cached of it.
func (s *Service) decide(ctx context.Context, by audit.Actor, id string, decision store.Approval) (store.ApprovalItem, error) {
	it, err := s.Get(ctx, id)
	if err != nil {
		return store.ApprovalItem{}, err
	}
	now := s.clock()
	decision.DecidedAt = now
	action := "approval." + decision.State
	if it.Key != nil {
		k, err := s.db.UpdateKey(ctx, id, func(k *store.Key) (store.Event, error) {
			if k.Approval.State != store.ApprovalPending {
				return store.Event{}, ErrDecided
			}
			if !k.RevokedAt.IsZero() {
				return store.Event{}, apikey.ErrRevoked // withdrawn by its owner
			}
			k.Approval, k.UpdatedAt = decision, now
			if decision.State == store.ApprovalDenied && k.RevokedAt.IsZero() {
				k.RevokedAt, k.RevokedReason = now, api.RevokedDenied
			}
			return audit.Change(by, now, action, "pat", id, nil, view(it, decision))
		})
		return store.ApprovalItem{Key: &k}, err
	}
	c, err := s.db.UpdateClient(ctx, id, func(c *store.Client) (store.Event, error) {
		if c.Approval.State != store.ApprovalPending {
			return store.Event{}, ErrDecided
		}
		c.Approval, c.UpdatedAt = decision, now
		return audit.Change(by, now, action, "client", id, nil, view(it, decision))
	})
	return store.ApprovalItem{Client: &c}, err
}

// record is what the audit log (and so a webhook) records of a decision.
type record struct {
	Kind      string `json:"kind"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	DecidedAt string `json:"decided_at,omitempty"`
}

func view(it store.ApprovalItem, a store.Approval) record {
	r := record{Kind: api.ApprovalKindClient, State: a.State, Reason: a.Reason}
	if it.Key != nil {
		r.Kind, r.UserID = api.ApprovalKindToken, it.Key.UserID
	}
	if !a.DecidedAt.IsZero() {
		r.DecidedAt = a.DecidedAt.Format(time.RFC3339Nano)
	}
	return r
}

// View is the wire form of an approval at now (for its token's
// expiring_soon).
func View(it store.ApprovalItem, now time.Time) api.Approval {
	v := api.Approval{ID: it.ID(), RequestedAt: it.CreatedAt()}
	if st := apikey.ApprovalView(it.Approval()); st != nil {
		v.ApprovalState = *st
	}
	if it.Key != nil {
		t := apikey.TokenView(*it.Key, now)
		v.Kind, v.Token = api.ApprovalKindToken, &t
	} else {
		cl := oauth.ClientView(*it.Client)
		v.Kind, v.Client = api.ApprovalKindClient, &cl
	}
	return v
}
