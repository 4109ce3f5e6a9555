package server

import (
	"context"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// The /v1/me endpoints: a person's own tokens, apps, sessions and
// passkeys, for the person the middleware resolved (me_auth.go). Every
// id is looked up with the person as its owner, so another person's id
// is 404 and changes nothing.

// meRoutes lists the /v1/me routes.
func (s *Server) meRoutes() []route {
	return []route{
		s.me("GET /v1/me", handle(s, 200, s.getMe)),
		s.me("GET /v1/me/tokens", handle(s, 200, s.listMyTokens)),
		s.me("POST /v1/me/tokens", handle(s, 201, s.createMyToken)),
		s.me("GET /v1/me/tokens/{id}", handle(s, 200, s.getMyToken)),
		s.me("GET /v1/me/tokens/{id}/uses", handle(s, 200, s.myTokenUses)),
		s.me("POST /v1/me/tokens/{id}/regenerate", handle(s, 200, s.regenerateMyToken)),
		s.me("POST /v1/me/tokens/{id}/revoke", handle(s, 200, s.revokeMyToken)),
		s.me("GET /v1/me/grants", handle(s, 200, s.listMyGrants)),
		s.me("DELETE /v1/me/grants/{client_id}", handle(s, 204, s.revokeMyGrant)),
		s.me("GET /v1/me/device-sign-ins", handle(s, 200, s.listMyDeviceSignIns)),
		s.me("DELETE /v1/me/families/{id}", handle(s, 204, s.revokeMyFamily)),
		s.me("GET /v1/me/sessions", handle(s, 200, s.listMySessions)),
		s.me("DELETE /v1/me/sessions/{id}", handle(s, 204, s.endMySession)),
		s.me("GET /v1/me/passkeys", handle(s, 200, s.listMyPasskeys)),
		s.me("DELETE /v1/me/passkeys/{id}", handle(s, 204, s.removeMyPasskey)),
		s.me("POST /v1/me/revoke-all", handle(s, 200, s.revokeAll)),
	}
}

func (s *Server) getMe(ctx context.Context, c call, _ *none) (api.User, error) {
	return s.users.Get(ctx, c.p.id)
}

// listMyTokens answers GET /v1/me/tokens?cursor=&limit=.
func (s *Server) listMyTokens(ctx context.Context, c call, _ *none) (api.TokenList, error) {
	limit, err := pageLimit(c.r)
	if err != nil {
		return api.TokenList{}, err
	}
	after, err := idCursor(c.r, store.KeyIDs)
	if err != nil {
		return api.TokenList{}, err
	}
	ks, err := s.keys.PATs(ctx, c.p.id, after, limit+1)
	if err != nil {
		return api.TokenList{}, err
	}
	return tokenList(ks, limit, s.keys.Now()), nil
}

func (s *Server) createMyToken(ctx context.Context, c call, req *api.CreateTokenRequest) (api.CreatedToken, error) {
	k, secret, err := s.keys.CreatePAT(ctx, c.by(), c.p.id, *req)
	if err != nil {
		return api.CreatedToken{}, err
	}
	return api.CreatedToken{Token: apikey.TokenView(k, s.keys.Now()), Secret: secret}, nil
}

func (s *Server) getMyToken(ctx context.Context, c call, _ *none) (api.Token, error) {
	k, err := s.keys.PAT(ctx, c.p.id, c.r.PathValue("id"))
	return apikey.TokenView(k, s.keys.Now()), err
}

func (s *Server) myTokenUses(ctx context.Context, c call, _ *none) (api.TokenUseList, error) {
	us, err := s.keys.PATUses(ctx, c.p.id, c.r.PathValue("id"))
	return api.TokenUseList{Uses: us}, err
}

func (s *Server) regenerateMyToken(ctx context.Context, c call, req *api.RegenerateTokenRequest) (api.CreatedToken, error) {
	k, secret, err := s.keys.RegeneratePAT(ctx, c.by(), c.p.id, c.r.PathValue("id"), req.Grace.Std())
	if err != nil {
		return api.CreatedToken{}, err
	}
	return api.CreatedToken{Token: apikey.TokenView(k, s.keys.Now()), Secret: secret}, nil
}

func (s *Server) revokeMyToken(ctx context.Context, c call, _ *none) (api.Token, error) {
	k, err := s.keys.RevokePAT(ctx, c.by(), c.p.id, c.r.PathValue("id"))
	return apikey.TokenView(k, s.keys.Now()), err
}

// mine is what the person holds from apps; nothing without OAuth.
func (s *Server) mine(ctx context.Context, c call) (oauth.Mine, error) {
	if s.oauth == nil {
		return oauth.Mine{Grants: []api.Grant{}, Device: []api.Family{}}, nil
	}
	return s.oauth.Mine(ctx, c.p.id)
}

func (s *Server) listMyGrants(ctx context.Context, c call, _ *none) (api.GrantList, error) {
	m, err := s.mine(ctx, c)
	return api.GrantList{Grants: m.Grants}, err
}

func (s *Server) listMyDeviceSignIns(ctx context.Context, c call, _ *none) (api.FamilyList, error) {
	m, err := s.mine(ctx, c)
	return api.FamilyList{Families: m.Device}, err
}

func (s *Server) revokeMyGrant(ctx context.Context, c call, _ *none) (none, error) {
	if s.oauth == nil {
		return none{}, notFoundIfOff(errOAuthOff)
	}
	return none{}, s.oauth.RevokeGrant(ctx, c.by(), c.p.id, c.r.PathValue("client_id"))
}

func (s *Server) revokeMyFamily(ctx context.Context, c call, _ *none) (none, error) {
	if s.oauth == nil {
		return none{}, notFoundIfOff(errOAuthOff)
	}
	return none{}, s.oauth.RevokeFamily(ctx, c.by(), c.p.id, c.r.PathValue("id"))
}

func (s *Server) listMySessions(ctx context.Context, c call, _ *none) (api.SessionList, error) {
	ss, err := s.users.Sessions(ctx, c.p.id)
	return api.SessionList{Sessions: ss}, err
}

func (s *Server) endMySession(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.users.EndSession(ctx, c.p.id, c.r.PathValue("id"))
}

func (s *Server) listMyPasskeys(ctx context.Context, c call, _ *none) (api.PasskeyList, error) {
	ps, err := s.users.Passkeys(ctx, c.p.id)
	return api.PasskeyList{Passkeys: ps}, err
}

func (s *Server) removeMyPasskey(ctx context.Context, c call, _ *none) (none, error) {
	return none{}, s.users.DeletePasskey(ctx, c.by(), c.p.id, c.r.PathValue("id"))
}

// revokeAll answers POST /v1/me/revoke-all, for a lost laptop: every
// personal access token, every app's grant and refresh-token family, and
// every session but the one making the request (a session caller stays
// signed in here; a token caller's own token is revoked with the rest).
// Passkeys stay: they are how the person signs in again.
func (s *Server) revokeAll(ctx context.Context, c call, _ *none) (api.RevokedAll, error) {
	var out api.RevokedAll
	var err error
	if out.Tokens, err = s.keys.RevokeAllPATs(ctx, c.by(), c.p.id); err != nil {
		return out, err
	}
	if s.oauth != nil {
		if out.Grants, out.Families, err = s.oauth.RevokeAll(ctx, c.by(), c.p.id); err != nil {
			return out, err
		}
	}
	keep := ""
	if c.p.kind == kindSession {
		keep = c.p.via
	}
	out.Sessions, err = s.users.EndSessionsCounted(ctx, c.by(), c.p.id, keep)
	return out, err
}
