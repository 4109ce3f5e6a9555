package verify

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// load reads the token with hash h and the given prefix from the store:
// an opaque access token (package oauth issues them; they verify like API
// keys) or an API key. The entry is cached until until.
// It returns store.ErrNotFound.
func (e *Engine) load(ctx context.Context, h [32]byte, prefix string, until int64) (*entry, error) {
	if prefix == credential.AccessTokenPrefix {
		rec, err := e.db.AccessTokenByHash(ctx, h)
		if err != nil {
			return nil, err
		}
		ent := newAccessEntry(rec)
		ent.cachedUntil = until
		return ent, nil
	}
	rec, err := e.db.KeyBySecretHash(ctx, h)
	if err != nil {
		return nil, err
	}
	ent := newEntry(rec, until)
	if err := e.prepareSigning(ent, rec); err != nil {
		return nil, err
	}
	return ent, nil
}

// newAccessEntry makes the entry of an opaque access token: no rate
// limits, credits, IP allowlist or usage bookkeeping, which are settings
// of API keys. Its keyID is empty, which keeps it out of the usage batch.
func newAccessEntry(r store.AccessRecord) *entry {
	t := r.Token
	exp := t.ExpiresAt.UTC()
	return &entry{
		found:     true,
		audience:  r.Audience,
		enabled:   true,
		revoked:   !t.RevokedAt.IsZero(),
		expiresAt: unixNano(t.ExpiresAt),
		issuedAt:  t.CreatedAt,
		scopes:    t.Scopes,
		info: api.TokenInfo{ID: t.ID, Kind: credential.KindAccessToken, APIID: t.APIID, Subject: t.Subject,
			Scopes: t.Scopes, ExpiresAt: &exp, ClientID: t.ClientID, JKT: t.JKT},
	}
}
