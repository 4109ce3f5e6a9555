package oauth

import (
	"context"
	"errors"
	"slices"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// CLIClientID is the built-in public client of "tokend login", which
// signs a person in through the device flow (RFC 8628) with the openid
// scope. Its access token is good for one more thing besides userinfo:
// it stands for the person on /v1/me (see CLIPerson), where the CLI
// trades it at once for a personal access token with tokend:self. The
// person sees the usual device page and consent for it.
const CLIClientID = "cli_tokendcli00000000000000000"

// EnsureCLIClient creates the built-in CLI client if it is missing.
func (s *Service) EnsureCLIClient(ctx context.Context) error {
	now := s.clock()
	c := store.Client{ID: CLIClientID, Name: "tokend CLI", GrantTypes: []string{GrantDeviceCode},
		APIScopes: map[string][]string{}, AccessTokenTTL: DeviceCodeTTL, RefreshTokenTTL: DefaultRefreshTokenTTL,
		TokenFormat: FormatJWT, AuthMethod: AuthNone, CreatedAt: now, UpdatedAt: now,
		Meta: store.ClientMeta{ApplicationType: AppNative, Scope: ScopeOpenID}}
	ev, err := audit.Change(audit.System, now, "client.create", "client", c.ID, nil, ClientView(c))
	if err != nil {
		return err
	}
	if err := s.db.CreateClient(ctx, c, ev); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// CLIPerson returns the person an access token of the built-in CLI
// client with the openid scope stands for, and false for any other
// token (another client's, a client's own, expired, revoked, or of a
// person since disabled).
func (s *Service) CLIPerson(ctx context.Context, token string) (string, bool, error) {
	var res verify.Result
	if err := s.verifier.Inspect(ctx, &verify.Request{Token: token}, &res); err != nil {
		return "", false, err
	}
	if res.Token == nil && credential.LooksLikeJWT(token) {
		if err := s.userinfoJWT(ctx, token, &res); err != nil {
			return "", false, err
		}
	}
	t := res.Token
	if !res.Valid() || t == nil || t.ClientID != CLIClientID || !slices.Contains(t.Scopes, ScopeOpenID) ||
		(t.Kind != credential.KindAccessToken && t.Kind != credential.KindJWTAccessToken) {
		return "", false, nil
	}
	u, err := s.db.UserByID(ctx, t.Subject)
	if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
		return "", false, nil
	}
	return u.ID, err == nil, err
}
