package apikey

import (
	"context"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// UnusedFor is how long a token (or a grant) has gone unused for the
// admin lists' "unused" filter.
const UnusedFor = 90 * 24 * time.Hour

// MaxBulkRevoke bounds the tokens (or grants) one request revokes: a
// page's worth of the console.
const MaxBulkRevoke = 100

// PATShows are the values of the admin token list's show filter, "" for
// every token.
var PATShows = []string{"", "active", "expiring", "unused", "expired", "revoked"}

// PATFilter is the store filter of the admin list of every user's
// personal access tokens at now: those of userID and apiID where set,
// and by show, one of PATShows: "active", "expiring" (within
// ExpiringSoon, soonest first), "unused" (for UnusedFor, least recently
// used first), "expired", "revoked". Another show is a *valid.Error on
// field.
func PATFilter(field, show, userID, apiID string, now time.Time) (store.KeyFilter, error) {
	f := store.KeyFilter{Personal: true, UserID: userID, APIID: apiID, Now: now}
	switch show {
	case "":
	case "active":
		f.State = store.KeyActive
	case "expired":
		f.State = store.KeyExpired
	case "revoked":
		f.State = store.KeyRevoked
	case "expiring":
		f.ExpiringBy = now.Add(ExpiringSoon)
	case "unused":
		f.UnusedSince = now.Add(-UnusedFor)
	default:
		return f, valid.Errorf(field, "must be one of active, expiring, unused, expired, revoked")
	}
	return f, nil
}

// AdminRevokePATs revokes the personal access tokens ids of any owner,
// as AdminRevokePAT does each, and returns how many it revoked (a
// revoked one counts, unchanged). It first reads them all, so that an id
// that is no personal access token (store.ErrNotFound) changes nothing;
// none, more than MaxBulkRevoke or an id twice is a *valid.Error.
func (s *Service) AdminRevokePATs(ctx context.Context, by audit.Actor, ids []string) (int, error) {
	if err := bulk("ids", ids); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := s.AdminPAT(ctx, id); err != nil {
			return 0, err
		}
	}
	for i, id := range ids {
		if _, err := s.AdminRevokePAT(ctx, by, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// bulk checks the ids of a bulk revoke: 1 to MaxBulkRevoke, each once.
func bulk(field string, ids []string) error {
	switch {
	case len(ids) == 0:
		return valid.Errorf(field, "is empty: name at least one")
	case len(ids) > MaxBulkRevoke:
		return valid.Errorf(field, "has %d entries; at most %d at once", len(ids), MaxBulkRevoke)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" {
			return valid.Errorf(field, "has an empty entry")
		}
		if seen[id] {
			return valid.Errorf(field, "names %q twice", id)
		}
		seen[id] = true
	}
	return nil
}
