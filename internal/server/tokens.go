package server

import (
	"context"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
)

// The admin's view of personal access tokens. A person manages their own
// through the "my tokens" page (package web), which calls the same
// apikey functions with their user id as the owner.

// listUserTokens answers GET /v1/users/{id}/tokens?cursor=&limit=.
func (s *Server) listUserTokens(ctx context.Context, c call, _ *none) (api.TokenList, error) {
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.TokenList{}, err
	}
	after, err := idCursor(c.r, store.KeyIDs)
	if err != nil {
		return api.TokenList{}, err
	}
	ks, err := s.keys.UserPATs(ctx, c.r.PathValue("id"), after, limit+1)
	if err != nil {
		return api.TokenList{}, err
	}
	return tokenList(ks, limit, s.keys.Now()), nil
}

func tokenList(ks []store.Key, limit int, now time.Time) api.TokenList {
	out := api.TokenList{Tokens: make([]api.Token, 0, min(len(ks), limit))}
	for i, k := range ks {
		if i == limit {
			out.NextCursor = ks[i-1].ID
			break
		}
		out.Tokens = append(out.Tokens, apikey.TokenView(k, now))
	}
	return out
}

// createUserToken answers POST /v1/users/{id}/tokens: an admin creates a
// token for a user (a CI account, say), under the same policy as the
// user's own; the audit log names the admin.
func (s *Server) createUserToken(ctx context.Context, c call, req *api.CreateTokenRequest) (api.CreatedToken, error) {
	k, secret, err := s.keys.CreatePAT(ctx, c.by(), c.r.PathValue("id"), *req)
	if err != nil {
		return api.CreatedToken{}, err
	}
	return api.CreatedToken{Token: apikey.TokenView(k, s.keys.Now()), Secret: secret}, nil
}

func (s *Server) getToken(ctx context.Context, c call, _ *none) (api.Token, error) {
	k, err := s.keys.AdminPAT(ctx, c.r.PathValue("id"))
	return apikey.TokenView(k, s.keys.Now()), err
}

func (s *Server) regenerateToken(ctx context.Context, c call, req *api.RegenerateTokenRequest) (api.CreatedToken, error) {
	k, secret, err := s.keys.AdminRegeneratePAT(ctx, c.by(), c.r.PathValue("id"), req.Grace.Std())
	if err != nil {
		return api.CreatedToken{}, err
	}
	return api.CreatedToken{Token: apikey.TokenView(k, s.keys.Now()), Secret: secret}, nil
}

func (s *Server) revokeToken(ctx context.Context, c call, _ *none) (api.Token, error) {
	k, err := s.keys.AdminRevokePAT(ctx, c.by(), c.r.PathValue("id"))
	return apikey.TokenView(k, s.keys.Now()), err
}
