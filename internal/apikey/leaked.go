package apikey

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// RevokeLeaked revokes the key or personal access token one of whose
// secrets is token (its current one, or a rotated one still in its
// grace), because it was found in public at where (a URL, or ""). A key
// that is disabled or expired is revoked too, since either can be undone.
// The key keeps api.RevokedLeaked as its revocation reason, and the audit
// event (key.revoke or pat.revoke) records the reason and where. It
// returns the id of the key it revoked, or "" when token is no live
// secret or its key is already revoked (which changes nothing).
func (s *Service) RevokeLeaked(ctx context.Context, by audit.Actor, token, where string) (string, error) {
	rec, err := s.db.KeyBySecretHash(ctx, credential.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	now := s.clock()
	if exp := rec.Secret.ExpiresAt; !exp.IsZero() && !now.Before(exp) {
		return "", nil // a rotated secret past its grace authenticates as nothing
	}
	_, err = s.db.UpdateKey(ctx, rec.Key.ID, func(k *store.Key) (store.Event, error) {
		if !k.RevokedAt.IsZero() {
			return store.Event{}, errUnchanged
		}
		before := auditKey(*k)
		k.RevokedAt, k.UpdatedAt, k.RevokedReason = now, now, api.RevokedLeaked
		action, target := "key.revoke", "key"
		if k.UserID != "" {
			action, target = "pat.revoke", "pat"
		}
		ev, err := audit.Change(by, now, action, target, k.ID, before, auditKey(*k))
		if err != nil {
			return store.Event{}, err
		}
		found, err := json.Marshal(where)
		if err != nil {
			return store.Event{}, err
		}
		ev.After = append(append(ev.After[:len(ev.After)-1], `,"found_at":`...), append(found, '}')...)
		return ev, nil
	})
	if errors.Is(err, errUnchanged) || errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return rec.Key.ID, nil
}
