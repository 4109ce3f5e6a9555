package user

import (
	"context"
	"errors"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// EndLeakedSession ends the session whose token is token, found in public
// at where (a URL, or ""), on every node; the audit event (session.end)
// records the reason ("leaked") and where. It returns the session's id,
// or "" when token is no session's.
func (s *Service) EndLeakedSession(ctx context.Context, by audit.Actor, token, where string) (string, error) {
	if prefix, ok := credential.Parse(token); !ok || prefix != credential.SessionPrefix {
		return "", nil
	}
	h := credential.Hash(token)
	ss, err := s.db.SessionByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ev, err := audit.Change(by, s.clock(), "session.end", credential.KindSession, ss.ID, nil,
		map[string]string{"user_id": ss.UserID, "reason": "leaked", "found_at": where})
	if err != nil {
		return "", err
	}
	if err := s.db.DeleteSessionByHash(ctx, h, ev); errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return ss.ID, nil
}
