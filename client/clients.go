package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// CreateClient registers an OAuth client. The answer holds its secret
// (for the client_secret_* methods), which is shown only this once.
func (c *Client) CreateClient(ctx context.Context, req api.CreateClientRequest) (*api.CreatedClient, error) {
	return call[api.CreatedClient](ctx, c, http.MethodPost, "/v1/clients", nil, req)
}

// ListClients returns a page of OAuth clients after cursor ("" for the
// first page), at most limit (0 for the server's default).
func (c *Client) ListClients(ctx context.Context, cursor string, limit int) (*api.ClientList, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return call[api.ClientList](ctx, c, http.MethodGet, "/v1/clients", q, nil)
}

// GetClient returns the OAuth client with the given ID, or an
// *api.Problem with code api.ErrNotFound.
func (c *Client) GetClient(ctx context.Context, id string) (*api.Client, error) {
	seg, err := segment("client", id)
	if err != nil {
		return nil, err
	}
	return call[api.Client](ctx, c, http.MethodGet, "/v1/clients/"+seg, nil, nil)
}

// UpdateClient changes the fields of req that are set and returns the
// client as it now stands.
func (c *Client) UpdateClient(ctx context.Context, id string, req api.UpdateClientRequest) (*api.Client, error) {
	seg, err := segment("client", id)
	if err != nil {
		return nil, err
	}
	return call[api.Client](ctx, c, http.MethodPatch, "/v1/clients/"+seg, nil, req)
}

// RotateClientSecret gives the client a new secret; the old one stops
// working at once.
func (c *Client) RotateClientSecret(ctx context.Context, id string) (*api.CreatedClient, error) {
	seg, err := segment("client", id)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedClient](ctx, c, http.MethodPost, "/v1/clients/"+seg+"/rotate-secret", nil, nil)
}

// DeleteClient deletes the client with its opaque access tokens and
// refresh tokens.
func (c *Client) DeleteClient(ctx context.Context, id string) error {
	seg, err := segment("client", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/clients/"+seg, nil, nil, nil)
}
