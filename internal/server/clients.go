package server

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// The management API of OAuth clients, /v1/clients. Without an OAuth
// service its endpoints answer 404.

func (s *Server) createClient(ctx context.Context, c call, req *api.CreateClientRequest) (api.CreatedClient, error) {
	if s.oauth == nil {
		return api.CreatedClient{}, notFoundIfOff(errOAuthOff)
	}
	cl, secret, err := s.oauth.CreateClient(ctx, c.by(), *req)
	return api.CreatedClient{Client: oauth.ClientView(cl), Secret: secret}, err
}

func (s *Server) listClients(ctx context.Context, c call, _ *none) (api.ClientList, error) {
	if s.oauth == nil {
		return api.ClientList{}, notFoundIfOff(errOAuthOff)
	}
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.ClientList{}, err
	}
	after := c.r.URL.Query().Get("cursor")
	if err := store.CheckClientCursor(after); err != nil {
		return api.ClientList{}, err
	}
	cs, err := s.oauth.Clients(ctx, after, limit+1)
	out := api.ClientList{Clients: make([]api.Client, 0, min(len(cs), limit))}
	for i, cl := range cs {
		if i == limit {
			out.NextCursor = cs[i-1].ID
			break
		}
		out.Clients = append(out.Clients, oauth.ClientView(cl))
	}
	return out, err
}

func (s *Server) getClient(ctx context.Context, c call, _ *none) (api.Client, error) {
	if s.oauth == nil {
		return api.Client{}, notFoundIfOff(errOAuthOff)
	}
	cl, err := s.oauth.Client(ctx, c.r.PathValue("id"))
	return oauth.ClientView(cl), err
}

func (s *Server) updateClient(ctx context.Context, c call, req *api.UpdateClientRequest) (api.Client, error) {
	if s.oauth == nil {
		return api.Client{}, notFoundIfOff(errOAuthOff)
	}
	cl, err := s.oauth.UpdateClient(ctx, c.by(), c.r.PathValue("id"), *req)
	return oauth.ClientView(cl), err
}

func (s *Server) rotateClientSecret(ctx context.Context, c call, _ *none) (api.CreatedClient, error) {
	if s.oauth == nil {
		return api.CreatedClient{}, notFoundIfOff(errOAuthOff)
	}
	cl, rot, err := s.oauth.RotateSecret(ctx, c.by(), c.r.PathValue("id"))
	return api.CreatedClient{Client: oauth.ClientView(cl), Secret: rot.Secret, RegistrationAccessToken: rot.RegistrationToken}, err
}

func (s *Server) deleteClient(ctx context.Context, c call, _ *none) (none, error) {
	if s.oauth == nil {
		return none{}, notFoundIfOff(errOAuthOff)
	}
	return none{}, s.oauth.DeleteClient(ctx, c.by(), c.r.PathValue("id"))
}
