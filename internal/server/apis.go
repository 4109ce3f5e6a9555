package server

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
)

func (s *Server) createAPI(ctx context.Context, c call, req *api.CreateAPIRequest) (api.API, error) {
	a, err := s.keys.CreateAPI(ctx, c.by(), *req)
	return apikey.APIView(a), err
}

func (s *Server) listAPIs(ctx context.Context, _ call, _ *none) (api.APIList, error) {
	as, err := s.keys.APIs(ctx)
	out := api.APIList{APIs: make([]api.API, 0, len(as))}
	for _, a := range as {
		out.APIs = append(out.APIs, apikey.APIView(a))
	}
	return out, err
}

func (s *Server) getAPI(ctx context.Context, c call, _ *none) (api.API, error) {
	a, err := s.keys.API(ctx, c.r.PathValue("id"))
	return apikey.APIView(a), err
}

func (s *Server) updateAPI(ctx context.Context, c call, req *api.UpdateAPIRequest) (api.API, error) {
	a, err := s.keys.UpdateAPI(ctx, c.by(), c.r.PathValue("id"), *req)
	return apikey.APIView(a), err
}

func (s *Server) deleteAPI(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.keys.DeleteAPI(ctx, c.by(), c.r.PathValue("id"))
}
