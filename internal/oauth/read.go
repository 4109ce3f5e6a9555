package oauth

import (
	"context"

	"github.com/tokend/tokend/internal/store"
)

// Client returns client id. It returns store.ErrNotFound.
func (s *Service) Client(ctx context.Context, id string) (store.Client, error) {
	return s.db.ClientByID(ctx, id)
}

// Clients returns at most limit clients with ids after after, in id order.
func (s *Service) Clients(ctx context.Context, after string, limit int) ([]store.Client, error) {
	return s.db.ListClients(ctx, after, limit)
}
