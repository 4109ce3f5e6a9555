package client

import (
	"context"
	"net/http"

	"github.com/tokend/tokend/api"
)

// ListSigningKeys returns tokend's JWT signing keys, oldest first, without
// private material.
func (c *Client) ListSigningKeys(ctx context.Context) (*api.SigningKeyList, error) {
	return call[api.SigningKeyList](ctx, c, http.MethodGet, "/v1/signing-keys", nil, nil)
}

// RotateSigningKey starts a signing-key rotation: it returns the new key,
// published now and signing after the server's lead time. If a rotation is
// already pending it returns that key instead.
func (c *Client) RotateSigningKey(ctx context.Context) (*api.SigningKey, error) {
	return call[api.SigningKey](ctx, c, http.MethodPost, "/v1/signing-keys/rotate", nil, nil)
}
