package oauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// ClientIDPrefix is the type prefix of client ids (package ids).
const ClientIDPrefix = "cli"

// Client settings' bounds and defaults.
const (
	DefaultAccessTokenTTL  = time.Hour
	MinAccessTokenTTL      = time.Minute
	MaxAccessTokenTTL      = 24 * time.Hour // and never above the signer's MaxTokenTTL
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	MinRefreshTokenTTL     = time.Hour
	MaxRefreshTokenTTL     = 365 * 24 * time.Hour
	maxJWKSBytes           = 16 << 10
)

// CreateClient validates req and creates the client. It returns the
// client and, for the secret methods, its secret, which exists nowhere
// else; or a *valid.Error.
func (s *Service) CreateClient(ctx context.Context, by audit.Actor, req api.CreateClientRequest) (store.Client, string, error) {
	c, err := s.newClient(ctx, req, s.clock())
	if err != nil {
		return store.Client{}, "", err
	}
	secret := s.setSecret(&c)
	ev, err := audit.Change(by, c.CreatedAt, "client.create", "client", c.ID, nil, ClientView(c))
	if err != nil {
		return store.Client{}, "", err
	}
	if err := s.db.CreateClient(ctx, c, ev); err != nil {
		return store.Client{}, "", fmt.Errorf("create client: %w", err)
	}
	return c, secret, nil
}

// newClient builds a client from req with defaults applied and validates it.
func (s *Service) newClient(ctx context.Context, req api.CreateClientRequest, now time.Time) (store.Client, error) {
	c := store.Client{ID: newID(ClientIDPrefix, now), Name: req.Name, GrantTypes: req.GrantTypes, APIScopes: req.APIScopes,
		AccessTokenTTL: DefaultAccessTokenTTL, RefreshTokenTTL: DefaultRefreshTokenTTL, TokenFormat: req.AccessTokenFormat,
		AuthMethod: req.TokenEndpointAuthMethod, JWKS: compactJSON(req.JWKS), CreatedAt: now, UpdatedAt: now,
		RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, FirstParty: req.FirstParty,
		IDTokenAlg: req.IDTokenSignedResponseAlg, Meta: store.ClientMeta{ApplicationType: req.ApplicationType},
		DPoPBound: req.DPoPBoundAccessTokens}
	if c.GrantTypes == nil {
		c.GrantTypes = []string{GrantClientCredentials}
		if len(c.RedirectURIs) > 0 {
			c.GrantTypes = []string{GrantAuthorizationCode}
		}
	}
	if c.APIScopes == nil {
		c.APIScopes = map[string][]string{}
	}
	if c.Meta.ApplicationType == "" {
		c.Meta.ApplicationType = AppWeb
	}
	if c.TokenFormat == "" {
		c.TokenFormat = FormatJWT
	}
	if c.AuthMethod == "" {
		c.AuthMethod = AuthSecretBasic
	}
	if req.AccessTokenTTL != nil {
		c.AccessTokenTTL = req.AccessTokenTTL.Std()
	}
	if req.RefreshTokenTTL != nil {
		c.RefreshTokenTTL = req.RefreshTokenTTL.Std()
	}
	return c, s.checkClient(ctx, &c)
}

// setSecret gives a secret-method client a new secret and returns it.
func (s *Service) setSecret(c *store.Client) string {
	if c.AuthMethod == AuthPrivateKeyJWT || c.AuthMethod == AuthNone {
		c.SecretHash, c.SecretStart, c.SecretEnd = nil, "", ""
		return ""
	}
	secret := credential.Generate(credential.ClientSecretPrefix)
	h := credential.Hash(secret)
	c.SecretHash = h[:]
	c.SecretStart, c.SecretEnd = credential.Display(secret)
	return secret
}

// checkClient validates every setting of c.
func (s *Service) checkClient(ctx context.Context, c *store.Client) error {
	if err := valid.Text("name", c.Name, 1, 200); err != nil {
		return err
	}
	if err := checkGrants(c); err != nil {
		return err
	}
	if err := s.checkAPIScopes(ctx, c.APIScopes, slices.Contains(c.GrantTypes, GrantClientCredentials)); err != nil {
		return err
	}
	if err := checkUserGrantSettings(c); err != nil {
		return err
	}
	if max := s.maxAccessTTL(); c.AccessTokenTTL > max && max < MaxAccessTokenTTL {
		return valid.Errorf("access_token_ttl", "must be at most %s, the server's --max-token-ttl", max)
	}
	if err := valid.Duration("access_token_ttl", c.AccessTokenTTL, MinAccessTokenTTL, s.maxAccessTTL()); err != nil {
		return err
	}
	if err := valid.Duration("refresh_token_ttl", c.RefreshTokenTTL, MinRefreshTokenTTL, MaxRefreshTokenTTL); err != nil {
		return err
	}
	if c.TokenFormat != FormatJWT && c.TokenFormat != FormatOpaque {
		return valid.Errorf("access_token_format", "must be %s or %s", FormatJWT, FormatOpaque)
	}
	return checkAuth(c)
}

// maxAccessTTL is the longest access_token_ttl a client may have: the
// signer's MaxTokenTTL (--max-token-ttl), at most MaxAccessTokenTTL.
func (s *Service) maxAccessTTL() time.Duration {
	return min(s.signer.MaxTokenTTL(), MaxAccessTokenTTL)
}

// checkAPIScopes validates the APIs and scopes a client may obtain; a
// client_credentials client (required) must name at least one.
func (s *Service) checkAPIScopes(ctx context.Context, m map[string][]string, required bool) error {
	if len(m) == 0 && required {
		return valid.Errorf("api_scopes", "name at least one API the client may get tokens for")
	}
	if len(m) > 100 {
		return valid.Errorf("api_scopes", "at most 100 APIs")
	}
	for id, scopes := range m {
		field := "api_scopes." + id
		if id == apikey.SystemAPIID {
			return valid.Errorf(field, "OAuth clients cannot get tokens for tokend's own API")
		}
		a, err := s.db.APIByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return valid.Errorf(field, "no API has this id")
		}
		if err != nil {
			return err
		}
		if scopes == nil {
			m[id] = []string{}
		}
		if err := valid.Scopes(field, scopes); err != nil {
			return err
		}
		if err := valid.Subset(field, scopes, a.Scopes); err != nil {
			return err
		}
	}
	return nil
}

func checkAuth(c *store.Client) error {
	switch c.AuthMethod {
	case AuthSecretBasic, AuthSecretPost:
		if len(c.JWKS) > 0 {
			return valid.Errorf("jwks", "is only for %s clients", AuthPrivateKeyJWT)
		}
		return nil
	case AuthPrivateKeyJWT:
		return checkJWKS(c.JWKS)
	case AuthNone:
		if len(c.JWKS) > 0 {
			return valid.Errorf("jwks", "is only for %s clients", AuthPrivateKeyJWT)
		}
		if slices.Contains(c.GrantTypes, GrantClientCredentials) {
			return valid.Errorf("token_endpoint_auth_method", "public clients (none) cannot use %s: it has no user and no client secret", GrantClientCredentials)
		}
		return nil
	}
	return valid.Errorf("token_endpoint_auth_method", "must be %s, %s, %s or %s", AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthNone)
}

// checkJWKS accepts a JWK Set of 1 to 10 public signing keys.
func checkJWKS(raw []byte) error {
	if len(raw) == 0 {
		return valid.Errorf("jwks", "is required for %s: the client's public keys", AuthPrivateKeyJWT)
	}
	if len(raw) > maxJWKSBytes {
		return valid.Errorf("jwks", "must be at most %d bytes", maxJWKSBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return valid.Errorf("jwks", "is not a JWK Set: %s", "each key must be a valid JWK")
	}
	if len(set.Keys) == 0 || len(set.Keys) > 10 {
		return valid.Errorf("jwks", "must hold 1 to 10 keys")
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() {
			return valid.Errorf("jwks", "keys must be public asymmetric keys, never private or symmetric ones")
		}
		if k.Use != "" && k.Use != "sig" {
			return valid.Errorf("jwks", "keys must be for signing (use sig)")
		}
		if err := checkKeyStrength(k.Key); err != nil {
			return err
		}
	}
	return nil
}

// MinRSABits is the smallest RSA modulus a client key may have, as for
// tokend's own signing keys.
const MinRSABits = 2048

// checkKeyStrength accepts RSA keys of at least MinRSABits, EC keys on
// P-256, P-384 or P-521, and Ed25519 keys: what private_key_jwt
// assertions are verified with.
func checkKeyStrength(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return valid.Errorf("jwks", "RSA keys must have at least %d bits", MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return valid.Errorf("jwks", "EC keys must be on P-256, P-384 or P-521")
	case ed25519.PublicKey:
		return nil
	}
	return valid.Errorf("jwks", "keys must be RSA, EC (P-256, P-384, P-521) or Ed25519 keys")
}

// UpdateClient applies req to client id. It returns store.ErrNotFound or
// *valid.Error; a refused change changes nothing.
func (s *Service) UpdateClient(ctx context.Context, by audit.Actor, id string, req api.UpdateClientRequest) (store.Client, error) {
	now := s.clock()
	var withdrawn []string
	c, err := s.db.UpdateClient(ctx, id, func(c *store.Client) (store.Event, error) {
		before := *c
		if err := s.apply(ctx, c, req); err != nil {
			return store.Event{}, err
		}
		if audit.Same(before, *c) {
			return store.Event{}, errUnchanged // no event, no new updated_at
		}
		c.UpdatedAt = now
		withdrawn = withdrawnAPIs(before, *c)
		return audit.Change(by, now, "client.update", "client", c.ID, ClientView(before), ClientView(*c))
	})
	if errors.Is(err, errUnchanged) {
		return s.db.ClientByID(ctx, id)
	}
	if err != nil {
		return store.Client{}, err
	}
	return c, s.revokeFamilies(ctx, by, c.ID, withdrawn, now)
}

// errUnchanged rolls back an update that has nothing to do.
var errUnchanged = errors.New("unchanged")

// withdrawnAPIs lists the APIs for which a change from before to after
// takes away the client's refresh tokens: the APIs it lost, or all of
// them when it lost the refresh_token grant. A client without the grant
// holds no refresh token: a change of one withdraws nothing, and writes
// no refresh_token.revoke event.
func withdrawnAPIs(before, after store.Client) []string {
	if !slices.Contains(before.GrantTypes, GrantRefreshToken) {
		return nil
	}
	var out []string
	lostRefresh := !slices.Contains(after.GrantTypes, GrantRefreshToken)
	for id := range before.APIScopes {
		if _, kept := after.APIScopes[id]; !kept || lostRefresh {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// revokeFamilies revokes the refresh-token families of client id for the
// given APIs, with the access tokens issued with them.
func (s *Service) revokeFamilies(ctx context.Context, by audit.Actor, id string, apiIDs []string, now time.Time) error {
	if len(apiIDs) == 0 {
		return nil
	}
	ev, err := audit.Change(by, now, "refresh_token.revoke", "client", id, nil,
		map[string]any{"api_ids": apiIDs, "revoked": "families", "reason": "grant withdrawn"})
	if err != nil {
		return err
	}
	if _, err := s.db.RevokeClientFamilies(ctx, id, apiIDs, now, ev); err != nil {
		return fmt.Errorf("revoke refresh families of client %s: %w", id, err)
	}
	return nil
}

func (s *Service) apply(ctx context.Context, c *store.Client, req api.UpdateClientRequest) error {
	setIf(&c.Name, req.Name)
	setIf(&c.GrantTypes, req.GrantTypes)
	setIf(&c.APIScopes, req.APIScopes)
	setIf(&c.TokenFormat, req.AccessTokenFormat)
	if req.AccessTokenTTL != nil {
		c.AccessTokenTTL = req.AccessTokenTTL.Std()
	}
	if req.RefreshTokenTTL != nil {
		c.RefreshTokenTTL = req.RefreshTokenTTL.Std()
	}
	if m := req.TokenEndpointAuthMethod; m != nil && *m != c.AuthMethod {
		secretMethod := func(m string) bool { return m == AuthSecretBasic || m == AuthSecretPost }
		if !secretMethod(*m) || !secretMethod(c.AuthMethod) {
			return valid.Errorf("token_endpoint_auth_method", "can change between %s and %s only; register a new client instead", AuthSecretBasic, AuthSecretPost)
		}
		c.AuthMethod = *m
	}
	if len(req.JWKS) > 0 {
		c.JWKS = compactJSON(req.JWKS)
	}
	setIf(&c.RedirectURIs, req.RedirectURIs)
	setIf(&c.PostLogoutRedirectURIs, req.PostLogoutRedirectURIs)
	setIf(&c.FirstParty, req.FirstParty)
	setIf(&c.IDTokenAlg, req.IDTokenSignedResponseAlg)
	setIf(&c.DPoPBound, req.DPoPBoundAccessTokens)
	return s.checkClient(ctx, c)
}

// Rotated is what a secret rotation returns, once: the new client secret
// and, for a dynamically registered client, its new registration access
// token (RFC 7592 §3), which replaces the old one.
type Rotated struct {
	Secret            string
	RegistrationToken string
}

// RotateSecret gives client id a new secret, and a dynamic client a new
// registration access token too, so that whoever held the old secret's
// registration token cannot change the client back; the old ones stop
// working at once (on other nodes as soon as the change is announced).
// It returns store.ErrNotFound, or *valid.Error for a private_key_jwt
// client.
func (s *Service) RotateSecret(ctx context.Context, by audit.Actor, id string) (store.Client, Rotated, error) {
	now := s.clock()
	var out Rotated
	c, err := s.db.UpdateClient(ctx, id, func(c *store.Client) (store.Event, error) {
		if c.AuthMethod == AuthPrivateKeyJWT || c.AuthMethod == AuthNone {
			return store.Event{}, valid.Errorf("token_endpoint_auth_method", "a %s client has no secret", c.AuthMethod)
		}
		before := ClientView(*c)
		out.Secret = s.setSecret(c)
		if c.Dynamic {
			out.RegistrationToken = setRegistrationToken(c)
		}
		c.UpdatedAt = now
		return audit.Change(by, now, "client.rotate_secret", "client", c.ID, before, ClientView(*c))
	})
	if err != nil {
		return store.Client{}, Rotated{}, err
	}
	return c, out, nil
}

// DeleteClient deletes client id with its opaque access and refresh
// tokens. Its JWT access tokens stay valid until they expire (at most
// its access_token_ttl). It returns store.ErrNotFound.
func (s *Service) DeleteClient(ctx context.Context, by audit.Actor, id string) error {
	c, err := s.db.ClientByID(ctx, id)
	if err != nil {
		return err
	}
	ev, err := audit.Change(by, s.clock(), "client.delete", "client", id, ClientView(c), nil)
	if err != nil {
		return err
	}
	_, err = s.db.DeleteClient(ctx, id, ev)
	return err
}

// ClientView is the management API's view of c.
func ClientView(c store.Client) api.Client {
	return api.Client{ID: c.ID, Name: c.Name, GrantTypes: c.GrantTypes, APIScopes: c.APIScopes,
		AccessTokenTTL: api.Duration(c.AccessTokenTTL), RefreshTokenTTL: api.Duration(c.RefreshTokenTTL),
		AccessTokenFormat: c.TokenFormat, TokenEndpointAuthMethod: c.AuthMethod, JWKS: c.JWKS,
		SecretStart: c.SecretStart, SecretEnd: c.SecretEnd, Dynamic: c.Dynamic, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		ClientSettings: api.ClientSettings{RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			FirstParty: c.FirstParty, IDTokenSignedResponseAlg: c.IDTokenAlg, ApplicationType: c.Meta.ApplicationType,
			DPoPBoundAccessTokens: c.DPoPBound}, Approval: apikey.ApprovalView(c.Approval)}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// compactJSON stores caller JSON without insignificant space; invalid
// JSON is kept as is for the validation to refuse.
func compactJSON(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// grantTypes are the grants a client may hold.
var grantTypes = []string{GrantClientCredentials, GrantAuthorizationCode, GrantDeviceCode, GrantRefreshToken}

// checkGrants accepts at least one grant of grantTypes, each once;
// refresh tokens come with another grant.
func checkGrants(c *store.Client) error {
	if len(c.GrantTypes) == 0 {
		return valid.Errorf("grant_types", "give at least one of %s", strings.Join(grantTypes[:3], ", "))
	}
	for i, g := range c.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return valid.Errorf("grant_types", "%q is not supported; tokend offers %s", g, strings.Join(grantTypes, ", "))
		}
		if slices.Contains(c.GrantTypes[:i], g) {
			return valid.Errorf("grant_types", "%q is listed twice", g)
		}
	}
	if len(c.GrantTypes) == 1 && c.GrantTypes[0] == GrantRefreshToken {
		return valid.Errorf("grant_types", "refresh tokens come with another grant, which the client must also have")
	}
	return nil
}

// checkUserGrantSettings validates the redirect URIs (required for, and
// only for, the authorization code grant), the logout URIs, the
// application type and the ID-token algorithm.
func checkUserGrantSettings(c *store.Client) error {
	code := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	switch t := c.Meta.ApplicationType; {
	case t != AppWeb && t != AppNative:
		return valid.Errorf("application_type", "must be %s or %s", AppWeb, AppNative)
	case code && len(c.RedirectURIs) == 0:
		return valid.Errorf("redirect_uris", "the %s grant needs at least one redirect URI", GrantAuthorizationCode)
	case !code && len(c.RedirectURIs) > 0:
		return valid.Errorf("redirect_uris", "are only for clients of the %s grant", GrantAuthorizationCode)
	}
	if err := checkRedirectURIs("redirect_uris", c.RedirectURIs, c.Meta.ApplicationType); err != nil {
		return err
	}
	if err := checkRedirectURIs("post_logout_redirect_uris", c.PostLogoutRedirectURIs, c.Meta.ApplicationType); err != nil {
		return err
	}
	if c.IDTokenAlg != "" && !slices.Contains(IDTokenAlgs, c.IDTokenAlg) {
		return valid.Errorf("id_token_signed_response_alg", "must be one of %s", strings.Join(IDTokenAlgs, ", "))
	}
	return nil
}
