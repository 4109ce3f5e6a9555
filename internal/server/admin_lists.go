package server

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// The admin lists of every user's personal access tokens and OAuth
// grants, with the console's filters (package web calls the same
// functions), and their bulk revokes. Each filter is an indexed store
// query (migrations 0011 and 0019).

// listAllTokens answers GET
// /v1/tokens?user_id=&api_id=&show=&cursor=&limit=.
func (s *Server) listAllTokens(ctx context.Context, c call, _ *none) (api.TokenList, error) {
	q := c.r.URL.Query()
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.TokenList{}, err
	}
	now := s.keys.Now()
	f, err := apikey.PATFilter("show", q.Get("show"), q.Get("user_id"), q.Get("api_id"), now)
	if err != nil {
		return api.TokenList{}, err
	}
	f.After, f.Limit = q.Get("cursor"), limit+1
	if err := store.CheckKeyCursor(f); err != nil {
		return api.TokenList{}, err
	}
	ks, err := s.keys.Keys(ctx, f)
	if err != nil {
		return api.TokenList{}, err
	}
	out := api.TokenList{Tokens: make([]api.Token, 0, min(len(ks), limit))}
	for i, k := range ks {
		if i == limit {
			out.NextCursor = store.KeyCursor(f, ks[i-1])
			break
		}
		out.Tokens = append(out.Tokens, apikey.TokenView(k, now))
	}
	return out, nil
}

// revokeTokens answers POST /v1/tokens/revoke {"ids":[…]}.
func (s *Server) revokeTokens(ctx context.Context, c call, req *api.RevokeTokensRequest) (api.Revoked, error) {
	n, err := s.keys.AdminRevokePATs(ctx, c.by(), req.IDs)
	return api.Revoked{Revoked: n}, err
}

// listAllGrants answers GET
// /v1/grants?user_id=&client_id=&api_id=&show=&cursor=&limit=.
func (s *Server) listAllGrants(ctx context.Context, c call, _ *none) (api.AdminGrantList, error) {
	if s.oauth == nil {
		return api.AdminGrantList{}, notFoundIfOff(errOAuthOff)
	}
	q := c.r.URL.Query()
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.AdminGrantList{}, err
	}
	f, err := oauth.AdminGrantFilter("show", q.Get("show"), q.Get("user_id"), q.Get("client_id"), q.Get("api_id"),
		s.keys.Now(), apikey.UnusedFor)
	if err != nil {
		return api.AdminGrantList{}, err
	}
	f.After, f.Limit = q.Get("cursor"), limit+1
	gs, err := s.oauth.AllGrants(ctx, f)
	if err != nil {
		return api.AdminGrantList{}, err
	}
	out := api.AdminGrantList{Grants: make([]api.AdminGrant, 0, min(len(gs), limit))}
	names := map[string]string{}
	for i, g := range gs {
		if i == limit {
			out.NextCursor = store.GrantCursor(f, gs[i-1])
			break
		}
		if _, ok := names[g.ClientID]; !ok {
			names[g.ClientID] = s.oauth.ClientName(ctx, g.ClientID)
		}
		out.Grants = append(out.Grants, oauth.AdminGrantView(g, names[g.ClientID]))
	}
	return out, nil
}

// revokeGrants answers POST /v1/grants/revoke {"grants":[…]}.
func (s *Server) revokeGrants(ctx context.Context, c call, req *api.RevokeGrantsRequest) (api.Revoked, error) {
	if s.oauth == nil {
		return api.Revoked{}, notFoundIfOff(errOAuthOff)
	}
	n, err := s.oauth.RevokeGrants(ctx, c.by(), "grants", req.Grants)
	return api.Revoked{Revoked: n}, err
}
