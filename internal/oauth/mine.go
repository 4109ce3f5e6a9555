package oauth

import (
	"context"
	"errors"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// MaxFamilies bounds the refresh-token families Mine reads for one
// person.
const MaxFamilies = 1000

// Mine is what a person holds from apps: their grants, each with its live
// refresh-token families, and the families the device flow started
// (which also appear under their grant).
type Mine struct {
	Grants []api.Grant
	Device []api.Family
}

// Mine returns user userID's grants and families, scopes in the words
// the APIs defined.
func (s *Service) Mine(ctx context.Context, userID string) (Mine, error) {
	gs, err := s.db.ListGrants(ctx, userID)
	if err != nil {
		return Mine{}, err
	}
	fs, err := s.db.UserFamilies(ctx, userID, s.clock(), MaxFamilies)
	if err != nil {
		return Mine{}, err
	}
	apis, err := s.listAPIs(ctx)
	if err != nil {
		return Mine{}, err
	}
	words := scopeWords(apis)
	out := Mine{Grants: make([]api.Grant, 0, len(gs)), Device: []api.Family{}}
	byClient := map[string][]api.Family{}
	for _, f := range fs {
		v := api.Family{ID: f.ID, ClientID: f.ClientID, ClientName: s.clientName(ctx, f.ClientID), APIID: f.APIID,
			Scopes: words(f.APIID, f.Scopes), StartedAt: f.StartedAt, LastUsedAt: f.LastUsedAt, ExpiresAt: f.ExpiresAt, LastIP: f.IP, Device: f.Device}
		byClient[f.ClientID] = append(byClient[f.ClientID], v)
		if f.Device {
			out.Device = append(out.Device, v)
		}
	}
	for _, g := range gs {
		v := api.Grant{ClientID: g.ClientID, ClientName: s.clientName(ctx, g.ClientID), APIIDs: g.APIIDs,
			CreatedAt: g.CreatedAt, Families: byClient[g.ClientID]}
		if !g.LastUsedAt.IsZero() {
			v.LastUsedAt = &g.LastUsedAt
		}
		for _, sc := range g.Scopes {
			v.Scopes = append(v.Scopes, grantScope(apis, g.APIIDs, sc))
		}
		if v.Families == nil {
			v.Families = []api.Family{}
		}
		out.Grants = append(out.Grants, v)
	}
	return out, nil
}

// clientName is the name of client id, or its id when it is gone.
func (s *Service) clientName(ctx context.Context, id string) string {
	if c, err := s.client(ctx, id); err == nil {
		return c.Name
	}
	return id
}

// scopeWords describes the scopes of a family of API apiID.
func scopeWords(apis []store.API) func(apiID string, scopes []string) []api.Scope {
	return func(apiID string, scopes []string) []api.Scope {
		out := make([]api.Scope, 0, len(scopes))
		for _, sc := range scopes {
			out = append(out, grantScope(apis, []string{apiID}, sc))
		}
		return out
	}
}

// grantScope describes scope sc of a grant on the APIs apiIDs: tokend's
// words for the OpenID scopes, else those of the first API that has some.
func grantScope(apis []store.API, apiIDs []string, sc string) api.Scope {
	if d, ok := oidcScopeText[sc]; ok {
		return api.Scope{Name: sc, Description: d}
	}
	for _, a := range apis {
		for _, id := range apiIDs {
			if a.ID == id && a.Policy.ScopeDescriptions[sc] != "" {
				return api.Scope{Name: sc, Description: a.Policy.ScopeDescriptions[sc]}
			}
		}
	}
	return api.Scope{Name: sc}
}

// RevokeFamily revokes user userID's refresh-token family familyID and
// what was issued with it, on every node within a second. A family of
// someone else is store.ErrNotFound.
func (s *Service) RevokeFamily(ctx context.Context, by audit.Actor, userID, familyID string) error {
	now := s.clock()
	ev, err := audit.Change(by, now, "refresh_token.revoke", "refresh_family", familyID, nil,
		map[string]string{"user_id": userID, "revoked": "family", "reason": "revoked by the user"})
	if err != nil {
		return err
	}
	_, err = s.db.RevokeUserFamily(ctx, userID, familyID, now, ev)
	return err
}

// RevokeAll withdraws every grant of user userID and revokes every
// refresh-token family they hold, with what was issued with them. It
// returns how many grants and families it reached.
func (s *Service) RevokeAll(ctx context.Context, by audit.Actor, userID string) (grants, families int, err error) {
	gs, err := s.db.ListGrants(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	fs, err := s.db.UserFamilies(ctx, userID, s.clock(), MaxFamilies)
	if err != nil {
		return 0, 0, err
	}
	for _, g := range gs {
		if err := s.RevokeGrant(ctx, by, userID, g.ClientID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return grants, 0, err
		}
		grants++
	}
	now := s.clock()
	ev, err := audit.Change(by, now, "refresh_token.revoke_all", "user", userID, nil, nil)
	if err != nil {
		return grants, 0, err
	}
	if _, err := s.db.RevokeUserFamilies(ctx, userID, now, ev); err != nil {
		return grants, 0, err
	}
	return grants, len(fs), nil
}
