package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokend/tokend/api"
)

// CreateKey issues a key. The answer holds the secret, which tokend
// returns this once and never again.
func (c *Client) CreateKey(ctx context.Context, req api.CreateKeyRequest) (*api.CreatedKey, error) {
	return call[api.CreatedKey](ctx, c, http.MethodPost, "/v1/keys", nil, req)
}

// ListKeysOptions filters and pages [Client.ListKeys]. Zero fields are not
// sent.
type ListKeysOptions struct {
	APIID   string // only keys of this API
	Subject string // only keys acting for this subject
	Cursor  string // the NextCursor of the previous page
	Limit   int    // page size; zero means the server's default
}

func (o ListKeysOptions) query() url.Values {
	q := url.Values{}
	set(q, "api_id", o.APIID)
	set(q, "subject", o.Subject)
	set(q, "cursor", o.Cursor)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// ListKeys returns one page of keys. NextCursor is empty on the last page.
func (c *Client) ListKeys(ctx context.Context, opts ListKeysOptions) (*api.KeyList, error) {
	return call[api.KeyList](ctx, c, http.MethodGet, "/v1/keys", opts.query(), nil)
}

// GetKey returns the key with the given ID, or an *api.Problem with code
// api.ErrNotFound. The secret is never part of it.
func (c *Client) GetKey(ctx context.Context, id string) (*api.Key, error) {
	seg, err := segment("key", id)
	if err != nil {
		return nil, err
	}
	return call[api.Key](ctx, c, http.MethodGet, "/v1/keys/"+seg, nil, nil)
}

// UpdateKey changes the fields of req that are set and returns the key as
// it now stands.
func (c *Client) UpdateKey(ctx context.Context, id string, req api.UpdateKeyRequest) (*api.Key, error) {
	seg, err := segment("key", id)
	if err != nil {
		return nil, err
	}
	return call[api.Key](ctx, c, http.MethodPatch, "/v1/keys/"+seg, nil, req)
}

// RotateKey gives the key a new secret, returned this once. The old secret
// stays valid for req.Grace.
func (c *Client) RotateKey(ctx context.Context, id string, req api.RotateKeyRequest) (*api.CreatedKey, error) {
	seg, err := segment("key", id)
	if err != nil {
		return nil, err
	}
	return call[api.CreatedKey](ctx, c, http.MethodPost, "/v1/keys/"+seg+"/rotate", nil, req)
}

// RevokeKey revokes the key for good and returns it.
func (c *Client) RevokeKey(ctx context.Context, id string) (*api.Key, error) {
	seg, err := segment("key", id)
	if err != nil {
		return nil, err
	}
	return call[api.Key](ctx, c, http.MethodPost, "/v1/keys/"+seg+"/revoke", nil, struct{}{})
}

// Verify asks whether req.Token may be used. Every outcome, valid or not,
// is a response with a nil error; check Valid and Code. The error is
// non-nil only when tokend could not answer the question, and callers
// should then refuse the token.
func (c *Client) Verify(ctx context.Context, req api.VerifyRequest) (*api.VerifyResponse, error) {
	return call[api.VerifyResponse](ctx, c, http.MethodPost, "/v1/verify", nil, req)
}

func set(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}
