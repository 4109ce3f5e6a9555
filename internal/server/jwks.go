package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
)

// jwks serves the public signing keys (RFC 7517 §5) to resource servers,
// without authentication. Clients may cache it for signer.JWKSMaxAge,
// which is shorter than the signing-key lead time, so a cached set always
// holds the key that signs next.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if s.signer == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	body, err := json.Marshal(s.signer.JWKS())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(signer.JWKSMaxAge/time.Second)))
	w.Write(body)
}

func (s *Server) listSigningKeys(ctx context.Context, _ call, _ *none) (api.SigningKeyList, error) {
	if s.signer == nil {
		return api.SigningKeyList{}, store.ErrNotFound
	}
	keys, err := s.signer.Keys(ctx)
	if err != nil {
		return api.SigningKeyList{}, err
	}
	out := api.SigningKeyList{Keys: make([]api.SigningKey, 0, len(keys))}
	for _, k := range keys {
		v, err := signingKeyView(k)
		if err != nil {
			return api.SigningKeyList{}, err
		}
		out.Keys = append(out.Keys, v)
	}
	return out, nil
}

func (s *Server) rotateSigningKey(ctx context.Context, c call, _ *none) (api.SigningKey, error) {
	if s.signer == nil {
		return api.SigningKey{}, store.ErrNotFound
	}
	k, err := s.signer.RotateAs(ctx, c.by())
	if err != nil {
		return api.SigningKey{}, err
	}
	return signingKeyView(k)
}

func signingKeyView(k signer.Key) (api.SigningKey, error) {
	pub, err := k.Public.Public().MarshalJSON()
	if err != nil {
		return api.SigningKey{}, err
	}
	v := api.SigningKey{KID: k.KID, Alg: k.Alg, State: string(k.State), CreatedAt: k.CreatedAt,
		ActiveAt: k.ActiveAt, PublicJWK: pub}
	if !k.RetiredAt.IsZero() {
		v.RetiredAt, v.ExpiresAt = &k.RetiredAt, &k.ExpiresAt
	}
	return v, nil
}
