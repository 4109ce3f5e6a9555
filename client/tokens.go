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

// ListTokensOptions filter ListTokens; every field is optional.
type ListTokensOptions struct {
	UserID, APIID string
	// Show is one of active, expiring (within 7 days), unused (for 90
	// days), expired, revoked; "" for every token.
	Show   string
	Cursor string
	Limit  int
}

// ListTokens returns a page of every user's personal access tokens under
// opts (GET /v1/tokens).
func (c *Client) ListTokens(ctx context.Context, opts ListTokensOptions) (*api.TokenList, error) {
	q := url.Values{}
	set(q, "user_id", opts.UserID)
	set(q, "api_id", opts.APIID)
	set(q, "show", opts.Show)
	set(q, "cursor", opts.Cursor)
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	return call[api.TokenList](ctx, c, http.MethodGet, "/v1/tokens", q, nil)
}

// RevokeTokens revokes 1 to 100 personal access tokens of any users; an
// id that is no token is an *api.Problem with code api.ErrNotFound, and
// then nothing changed.
func (c *Client) RevokeTokens(ctx context.Context, ids []string) (*api.Revoked, error) {
	return call[api.Revoked](ctx, c, http.MethodPost, "/v1/tokens/revoke", nil, api.RevokeTokensRequest{IDs: ids})
}

// ListGrantsOptions filter ListGrants; every field is optional.
type ListGrantsOptions struct {
	UserID, ClientID, APIID string
	// Show is unused (for 90 days), or "" for every grant.
	Show   string
	Cursor string
	Limit  int
}

// ListGrants returns a page of every user's OAuth grants under opts (GET
// /v1/grants).
func (c *Client) ListGrants(ctx context.Context, opts ListGrantsOptions) (*api.AdminGrantList, error) {
	q := url.Values{}
	set(q, "user_id", opts.UserID)
	set(q, "client_id", opts.ClientID)
	set(q, "api_id", opts.APIID)
	set(q, "show", opts.Show)
	set(q, "cursor", opts.Cursor)
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	return call[api.AdminGrantList](ctx, c, http.MethodGet, "/v1/grants", q, nil)
}

// RevokeGrants revokes 1 to 100 grants, with every token each client
// holds for its user; a grant that does not exist is an *api.Problem
// with code api.ErrNotFound, and then nothing changed.
func (c *Client) RevokeGrants(ctx context.Context, grants []api.GrantRef) (*api.Revoked, error) {
	return call[api.Revoked](ctx, c, http.MethodPost, "/v1/grants/revoke", nil, api.RevokeGrantsRequest{Grants: grants})
}
