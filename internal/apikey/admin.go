package apikey

import (
	"context"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// bootstrapMarker records that the first admin key was made, so that it
// is made once: revoking every admin key later must not mint a new one at
// the next start.
const bootstrapMarker = "bootstrap_admin_key"

// Bootstrap creates the first admin key on the first start of a fresh
// store. It returns the secret and true then, and "", false ever after.
func (s *Service) Bootstrap(ctx context.Context) (string, bool, error) {
	now := s.clock()
	k, token, sec := s.adminKey("bootstrap admin key", []string{ScopeAdmin}, now)
	ev, err := audit.Change(audit.System, now, "key.create", "key", k.ID, nil, auditKey(k))
	if err != nil {
		return "", false, err
	}
	ok, err := s.db.Bootstrap(ctx, bootstrapMarker, k, sec, ev)
	if err != nil || !ok {
		return "", false, err
	}
	return token, true, nil
}

// CreateAdminKey creates a key of the built-in API with the given scopes
// (ScopeAdmin, ScopeVerify or both).
func (s *Service) CreateAdminKey(ctx context.Context, by audit.Actor, name string, scopes []string) (store.Key, string, error) {
	return s.CreateKey(ctx, by, api.CreateKeyRequest{APIID: SystemAPIID, Subject: by.ID, Name: name, Scopes: scopes})
}

func (s *Service) adminKey(name string, scopes []string, now time.Time) (store.Key, string, store.Secret) {
	token := credential.Generate(SystemPrefix)
	k := store.Key{ID: ids.New("key", now), APIID: SystemAPIID, Prefix: SystemPrefix, Subject: "system",
		Name: name, Scopes: scopes, Enabled: true, CreatedAt: now, UpdatedAt: now}
	sec := secretFor(token, k.ID, now)
	k.Start, k.End = sec.Start, sec.End
	return k, token, sec
}
