package apikey

import (
	"context"
	"fmt"

	"github.com/tokend/tokend/internal/store"
)

// API returns API id. It returns store.ErrNotFound.
func (s *Service) API(ctx context.Context, id string) (store.API, error) {
	return s.db.APIByID(ctx, id)
}

// APIs returns every API, the built-in one included.
func (s *Service) APIs(ctx context.Context) ([]store.API, error) { return s.db.ListAPIs(ctx) }

// Key returns key id, without its secret. It returns store.ErrNotFound,
// also for a personal access token.
func (s *Service) Key(ctx context.Context, id string) (store.Key, error) {
	k, err := s.db.KeyByID(ctx, id)
	if err == nil && k.UserID != "" {
		return store.Key{}, errPersonal(id)
	}
	return k, err
}

// errPersonal is what the key half answers for a personal access token,
// which only the pat.go half manages.
func errPersonal(id string) error {
	return fmt.Errorf("key %s is a personal access token: %w", id, store.ErrNotFound)
}

// Keys returns the keys f selects, in id order: API keys unless
// f.Personal is set.
func (s *Service) Keys(ctx context.Context, f store.KeyFilter) ([]store.Key, error) {
	return s.db.ListKeys(ctx, f)
}
