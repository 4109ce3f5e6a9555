package apikey

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// RecentUses is how many recent uses PATUses returns at most.
const RecentUses = 50

// PATUses returns the recent uses of owner's personal access token id,
// newest first: one row per minute, client address and result code, as
// the verification engine counted them. It returns store.ErrNotFound for
// a token of another owner.
func (s *Service) PATUses(ctx context.Context, owner, id string) ([]api.TokenUse, error) {
	if _, err := s.PAT(ctx, owner, id); err != nil {
		return nil, err
	}
	us, err := s.db.KeyUses(ctx, id, RecentUses)
	out := make([]api.TokenUse, len(us))
	for i, u := range us {
		out[i] = useView(u)
	}
	return out, err
}

// LastUses returns the newest valid use of each of the tokens ids that
// has one: the client address of its last use.
func (s *Service) LastUses(ctx context.Context, ids []string) (map[string]api.TokenUse, error) {
	us, err := s.db.LastKeyUses(ctx, ids, string(api.CodeValid))
	out := make(map[string]api.TokenUse, len(us))
	for id, u := range us {
		out[id] = useView(u)
	}
	return out, err
}

func useView(u store.KeyUse) api.TokenUse {
	return api.TokenUse{Minute: u.Minute, IP: u.IP, Code: api.Code(u.Code), Count: u.Count}
}

// RevokeAllPATs revokes every live personal access token of owner, on
// every node for the next request, and returns how many.
func (s *Service) RevokeAllPATs(ctx context.Context, by audit.Actor, owner string) (int64, error) {
	now := s.clock()
	ev, err := audit.Change(by, now, "pat.revoke_all", "user", owner, nil, nil)
	if err != nil {
		return 0, err
	}
	return s.db.RevokeUserKeys(ctx, owner, now, ev)
}
