package client

import (
	"context"
	"net/http"

	"github.com/tokend/tokend/api"
)

// CreateAPI registers a resource server whose keys tokend will issue. A
// value that is already taken is an *api.Problem with code api.ErrConflict.
func (c *Client) CreateAPI(ctx context.Context, req api.CreateAPIRequest) (*api.API, error) {
	return call[api.API](ctx, c, http.MethodPost, "/v1/apis", nil, req)
}

// ListAPIs returns every API.
func (c *Client) ListAPIs(ctx context.Context) (*api.APIList, error) {
	return call[api.APIList](ctx, c, http.MethodGet, "/v1/apis", nil, nil)
}

// GetAPI returns the API with the given ID, or an *api.Problem with code
// api.ErrNotFound.
func (c *Client) GetAPI(ctx context.Context, id string) (*api.API, error) {
	seg, err := segment("API", id)
	if err != nil {
		return nil, err
	}
	return call[api.API](ctx, c, http.MethodGet, "/v1/apis/"+seg, nil, nil)
}

// UpdateAPI changes the fields of req that are non-nil and returns the API
// as it now stands. A Policy replaces the whole policy.
func (c *Client) UpdateAPI(ctx context.Context, id string, req api.UpdateAPIRequest) (*api.API, error) {
	seg, err := segment("API", id)
	if err != nil {
		return nil, err
	}
	return call[api.API](ctx, c, http.MethodPatch, "/v1/apis/"+seg, nil, req)
}

// DeleteAPI deletes the API with the given ID. The server refuses with code
// api.ErrConflict when the API is still in use.
func (c *Client) DeleteAPI(ctx context.Context, id string) error {
	seg, err := segment("API", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/apis/"+seg, nil, nil, nil)
}
