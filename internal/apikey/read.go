package apikey

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// API returns API id. It returns store.ErrNotFound.
func (s *Service) API(ctx context.Context, id string) (store.API, error) {
	return s.db.APIByID(ctx, id)
}

// APIs returns every API, the built-in one included.
func (s *Service) APIs(ctx context.Context) ([]store.API, error) { return s.db.ListAPIs(ctx) }

// Key returns key id, without its secret. It returns store.ErrNotFound.
func (s *Service) Key(ctx context.Context, id string) (store.Key, error) {
	return s.db.KeyByID(ctx, id)
}

// Keys returns the keys f selects, in id order.
func (s *Service) Keys(ctx context.Context, f store.KeyFilter) ([]store.Key, error) {
	return s.db.ListKeys(ctx, f)
}
