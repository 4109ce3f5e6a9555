package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// ListUserTokens returns a page of the personal access tokens of user
// userID after cursor ("" for the first page), at most limit (0 for the
// server's default).
func (c *Client) ListUserTokens(ctx context.Context, userID, cursor string, limit int) (*api.TokenList, error) {
	seg, err := segment("user", userID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	set(q, "cursor", cursor)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return call[api.TokenList](ctx, c, http.MethodGet, "/v1/users/"+seg+"/tokens", q, nil)
}

// CreateUserToken creates a personal access token for user userID, under
// the API's policy for the user's groups. The secret is returned this
// once.
func (c *Client) CreateUserToken(ctx context.Context, userID string, req api.CreateTokenRequest) (*api.CreatedToken, error) {
	seg, err := segment("user", userID)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedToken](ctx, c, http.MethodPost, "/v1/users/"+seg+"/tokens", nil, req)
}

// GetToken returns the personal access token with the given ID, or an
// *api.Problem with code api.ErrNotFound.
func (c *Client) GetToken(ctx context.Context, id string) (*api.Token, error) {
	seg, err := segment("token", id)
	if err != nil {
		return nil, err
	}
	return call[api.Token](ctx, c, http.MethodGet, "/v1/tokens/"+seg, nil, nil)
}

// RegenerateToken gives the personal access token a new secret, returned
// this once. The old secret stays valid for req.Grace.
func (c *Client) RegenerateToken(ctx context.Context, id string, req api.RegenerateTokenRequest) (*api.CreatedToken, error) {
	seg, err := segment("token", id)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedToken](ctx, c, http.MethodPost, "/v1/tokens/"+seg+"/regenerate", nil, req)
}

// RevokeToken revokes the personal access token for good and returns it.
func (c *Client) RevokeToken(ctx context.Context, id string) (*api.Token, error) {
	seg, err := segment("token", id)
	if err != nil {
		return nil, err
	}
	return call[api.Token](ctx, c, http.MethodPost, "/v1/tokens/"+seg+"/revoke", nil, struct{}{})
}
