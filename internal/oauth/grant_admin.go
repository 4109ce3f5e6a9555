package oauth

import (
	"context"
	"fmt"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The admin's view of every user's grants: the list of the console and
// of GET /v1/grants, and the bulk revoke of both.

// MaxBulkRevoke bounds the grants one request revokes.
const MaxBulkRevoke = 100

// AdminGrantFilter is the store filter of the admin list of grants at now:
// those of userID, clientID and apiID where set, and by show: "" for
// every grant, "unused" for those unused for unusedFor, least recently
// used first. Another show is a *valid.Error on field. (Grants do not
// expire: a consent stands until revoked.)
func AdminGrantFilter(field, show, userID, clientID, apiID string, now time.Time, unusedFor time.Duration) (store.GrantFilter, error) {
	f := store.GrantFilter{UserID: userID, ClientID: clientID, APIID: apiID}
	switch show {
	case "":
	case "unused":
		f.UnusedSince = now.Add(-unusedFor)
	default:
		return f, valid.Errorf(field, "must be unused or empty")
	}
	return f, nil
}

// AllGrants is a page of every user's grants under f. A cursor
// store.GrantCursor did not make is store.ErrBadCursor.
func (s *Service) AllGrants(ctx context.Context, f store.GrantFilter) ([]store.Grant, error) {
	if err := store.CheckGrantCursor(f); err != nil {
		return nil, err
	}
	return s.db.ListAllGrants(ctx, f)
}

// ClientName is the name of client id, or the id when there is none.
func (s *Service) ClientName(ctx context.Context, id string) string { return s.clientName(ctx, id) }

// AdminGrantView is a stored grant as the admin list shows it.
func AdminGrantView(g store.Grant, clientName string) api.AdminGrant {
	v := api.AdminGrant{UserID: g.UserID, ClientID: g.ClientID, ClientName: clientName, Scopes: g.Scopes, APIIDs: g.APIIDs,
		CreatedAt: g.CreatedAt}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.APIIDs == nil {
		v.APIIDs = []string{}
	}
	if !g.LastUsedAt.IsZero() {
		v.LastUsedAt = &g.LastUsedAt
	}
	return v
}

// RevokeGrants revokes the grants refs, as RevokeGrant does each, and
// returns how many. It first reads them all, so that a grant that does
// not exist (store.ErrNotFound) changes nothing; none, more than
// MaxBulkRevoke or one twice is a *valid.Error on field.
func (s *Service) RevokeGrants(ctx context.Context, by audit.Actor, field string, refs []api.GrantRef) (int, error) {
	switch {
	case len(refs) == 0:
		return 0, valid.Errorf(field, "is empty: name at least one grant")
	case len(refs) > MaxBulkRevoke:
		return 0, valid.Errorf(field, "has %d grants; at most %d at once", len(refs), MaxBulkRevoke)
	}
	seen := make(map[api.GrantRef]bool, len(refs))
	for _, r := range refs {
		if r.UserID == "" || r.ClientID == "" {
			return 0, valid.Errorf(field, "has a grant without user_id or client_id")
		}
		if seen[r] {
			return 0, valid.Errorf(field, "names the grant of %s to %s twice", r.UserID, r.ClientID)
		}
		seen[r] = true
		if _, err := s.db.GrantFor(ctx, r.UserID, r.ClientID); err != nil {
			return 0, fmt.Errorf("grant of %s to %s: %w", r.UserID, r.ClientID, err)
		}
	}
	for i, r := range refs {
		if err := s.RevokeGrant(ctx, by, r.UserID, r.ClientID); err != nil {
			return i, err
		}
	}
	return len(refs), nil
}
