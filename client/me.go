package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// The /v1/me endpoints act for a person, not an admin: a Client for them
// is made with a personal access token of the built-in API holding the
// tokend:self scope (what "tokend login" stores) as its Token.

// Me returns the person the client's token belongs to.
func (c *Client) Me(ctx context.Context) (*api.User, error) {
	return call[api.User](ctx, c, http.MethodGet, "/v1/me", nil, nil)
}

// ListMyTokens returns a page of the person's personal access tokens
// after cursor ("" for the first page), at most limit (0 for the
// server's default).
func (c *Client) ListMyTokens(ctx context.Context, cursor string, limit int) (*api.TokenList, error) {
	q := url.Values{}
	set(q, "cursor", cursor)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return call[api.TokenList](ctx, c, http.MethodGet, "/v1/me/tokens", q, nil)
}

// CreateMyToken creates a personal access token for the person, under
// the API's policy for their groups. The secret is returned this once.
func (c *Client) CreateMyToken(ctx context.Context, req api.CreateTokenRequest) (*api.CreatedToken, error) {
	return call[api.CreatedToken](ctx, c, http.MethodPost, "/v1/me/tokens", nil, req)
}

// RegenerateMyToken gives one of the person's tokens a new secret,
// returned this once; the old one stays valid for req.Grace. Another
// person's token is an *api.Problem with code api.ErrNotFound.
func (c *Client) RegenerateMyToken(ctx context.Context, id string, req api.RegenerateTokenRequest) (*api.CreatedToken, error) {
	seg, err := segment("token", id)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedToken](ctx, c, http.MethodPost, "/v1/me/tokens/"+seg+"/regenerate", nil, req)
}

// RevokeMyToken revokes one of the person's tokens for good.
func (c *Client) RevokeMyToken(ctx context.Context, id string) (*api.Token, error) {
	seg, err := segment("token", id)
	if err != nil {
		return nil, err
	}
	return call[api.Token](ctx, c, http.MethodPost, "/v1/me/tokens/"+seg+"/revoke", nil, struct{}{})
}
