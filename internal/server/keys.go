package server

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

func (s *Server) createKey(ctx context.Context, c call, req *api.CreateKeyRequest) (api.CreatedKey, error) {
	is, err := s.keys.IssueKey(ctx, c.by(), *req)
	out := api.CreatedKey{Key: apikey.KeyView(is.Key), Secret: is.Secret}
	if is.SigningSecret != nil {
		out.SigningSecret = base64.StdEncoding.EncodeToString(is.SigningSecret)
	}
	return out, err
}

func (s *Server) listKeys(ctx context.Context, c call, _ *none) (api.KeyList, error) {
	q := c.r.URL.Query()
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.KeyList{}, err
	}
	after, err := idCursor(c.r, store.KeyIDs)
	if err != nil {
		return api.KeyList{}, err
	}
	ks, err := s.keys.Keys(ctx, store.KeyFilter{APIID: q.Get("api_id"), Subject: q.Get("subject"),
		After: after, Limit: limit + 1})
	out := api.KeyList{Keys: make([]api.Key, 0, min(len(ks), limit))}
	for i, k := range ks {
		if i == limit {
			out.NextCursor = ks[i-1].ID
			break
		}
		out.Keys = append(out.Keys, apikey.KeyView(k))
	}
	return out, err
}

// idCursor reads ?cursor= of a list whose cursors are record ids of
// prefixes: "" for the first page; one it could not have made is
// store.ErrBadCursor (400 invalid-field naming cursor), never an empty page.
func idCursor(r *http.Request, prefixes []string) (string, error) {
	c := r.URL.Query().Get("cursor")
	return c, store.CheckIDCursor(c, prefixes)
}

// pageLimit reads ?limit=, 1 to 500, default 50.
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, valid.Errorf("limit", "must be a number from 1 to 500")
	}
	return n, nil
}

func (s *Server) getKey(ctx context.Context, c call, _ *none) (api.Key, error) {
	k, err := s.keys.Key(ctx, c.r.PathValue("id"))
	return apikey.KeyView(k), err
}

func (s *Server) updateKey(ctx context.Context, c call, req *api.UpdateKeyRequest) (api.Key, error) {
	k, err := s.keys.UpdateKey(ctx, c.by(), c.r.PathValue("id"), *req)
	return apikey.KeyView(k), err
}

func (s *Server) rotateKey(ctx context.Context, c call, req *api.RotateKeyRequest) (api.CreatedKey, error) {
	k, secret, err := s.keys.RotateKey(ctx, c.by(), c.r.PathValue("id"), req.Grace.Std())
	return api.CreatedKey{Key: apikey.KeyView(k), Secret: secret}, err
}

func (s *Server) revokeKey(ctx context.Context, c call, _ *none) (api.Key, error) {
	k, err := s.keys.RevokeKey(ctx, c.by(), c.r.PathValue("id"))
	return apikey.KeyView(k), err
}
