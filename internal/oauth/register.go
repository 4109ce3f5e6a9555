package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// Registration is the client metadata of RFC 7591 §2 that tokend
// understands, plus two extensions: tokend_api_scopes (required), the API
// ids the client may get tokens for with their scopes, as in the
// management API, and tokend_access_token_format (jwt or opaque). Other
// members are ignored, as RFC 7591 §2 requires; scope is ignored in
// favour of tokend_api_scopes.
type Registration struct {
	ClientName              string              `json:"client_name"`
	GrantTypes              []string            `json:"grant_types,omitempty"`
	TokenEndpointAuthMethod string              `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    json.RawMessage     `json:"jwks,omitempty"`
	JWKSURI                 string              `json:"jwks_uri,omitempty"`
	RedirectURIs            []string            `json:"redirect_uris,omitempty"`
	ResponseTypes           []string            `json:"response_types,omitempty"`
	APIScopes               map[string][]string `json:"tokend_api_scopes,omitempty"`
	AccessTokenFormat       string              `json:"tokend_access_token_format,omitempty"`
	// ClientID and ClientSecret may accompany an RFC 7592 update; they
	// must then be the client's own.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// RegistrationResponse is the client information response of RFC 7591
// §3.2.1 and RFC 7592 §3.
type RegistrationResponse struct {
	ClientID                string              `json:"client_id"`
	ClientSecret            string              `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64               `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64              `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string              `json:"registration_access_token"`
	RegistrationClientURI   string              `json:"registration_client_uri"`
	ClientName              string              `json:"client_name"`
	GrantTypes              []string            `json:"grant_types"`
	ResponseTypes           []string            `json:"response_types"`
	TokenEndpointAuthMethod string              `json:"token_endpoint_auth_method"`
	JWKS                    json.RawMessage     `json:"jwks,omitempty"`
	APIScopes               map[string][]string `json:"tokend_api_scopes"`
	AccessTokenFormat       string              `json:"tokend_access_token_format"`
}

// Register creates a client from RFC 7591 metadata. initial is the bearer
// token the request carried, if any; when the Service has an initial
// access token, initial must be it. Each address ip may send
// Config.RegistrationLimit registration requests an hour, whatever their
// outcome; more are answered 429 temporarily_unavailable.
func (s *Service) Register(ctx context.Context, initial, ip string, req Registration) (RegistrationResponse, error) {
	if !s.registration {
		return RegistrationResponse{}, newError(404, ErrInvalidRequest, "dynamic client registration is not enabled")
	}
	if s.registrations != nil {
		k := addrKey(ip)
		e := s.registrations.blocked(k, s.now())
		s.registrations.add(k, s.now())
		if e != nil {
			e.Description = "too many registrations from this address; retry later"
			return RegistrationResponse{}, e
		}
	}
	if s.hasInitial {
		h := credential.Hash(initial)
		if initial == "" || subtle.ConstantTimeCompare(h[:], s.initialHash[:]) != 1 {
			return RegistrationResponse{}, newError(401, ErrInvalidToken, "registration needs the initial access token")
		}
	}
	if err := checkRegistration(req); err != nil {
		return RegistrationResponse{}, err
	}
	now := s.clock()
	c, err := s.newClient(ctx, api.CreateClientRequest{Name: req.ClientName, GrantTypes: req.GrantTypes,
		APIScopes: req.APIScopes, AccessTokenFormat: req.AccessTokenFormat,
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod, JWKS: req.JWKS}, now)
	if err != nil {
		return RegistrationResponse{}, metadataError(err)
	}
	secret := s.setSecret(&c)
	regToken := setRegistrationToken(&c)
	c.Dynamic = true
	ev, err := audit.Change(audit.Actor{ID: "registration", IP: ip}, now, "client.register", "client", c.ID, nil, ClientView(c))
	if err != nil {
		return RegistrationResponse{}, err
	}
	if err := s.db.CreateClient(ctx, c, ev); err != nil {
		return RegistrationResponse{}, err
	}
	return s.registrationResponse(c, secret, regToken), nil
}

// setRegistrationToken gives c a new registration access token and
// returns it.
func setRegistrationToken(c *store.Client) string {
	token := credential.Generate(credential.RegistrationTokenPrefix)
	h := credential.Hash(token)
	c.RegistrationHash = h[:]
	return token
}

// checkRegistration refuses metadata that asks for what tokend does not
// offer.
func checkRegistration(req Registration) error {
	switch {
	case req.JWKSURI != "":
		return invalidMetadata("jwks_uri is not supported; send the keys as jwks")
	case len(req.RedirectURIs) > 0 || len(req.ResponseTypes) > 0:
		return newError(400, "invalid_redirect_uri", "tokend has no authorization endpoint yet: redirect_uris and response_types must be empty")
	case len(req.APIScopes) == 0:
		return invalidMetadata("tokend_api_scopes is required: the API ids the client may get tokens for, with their scopes")
	}
	return nil
}

func metadataError(err error) error {
	if v, ok := errors.AsType[*valid.Error](err); ok {
		return invalidMetadata("%s", v.Error())
	}
	return err
}

// registered returns the dynamic client id whose registration access
// token is token, or an invalid_token *Error (RFC 7592 §2, 401) that does
// not say whether the client exists.
func (s *Service) registered(ctx context.Context, id, token string) (store.Client, error) {
	bad := newError(401, ErrInvalidToken, "the registration access token is not valid for this client")
	if p, ok := credential.Parse(token); !ok || p != credential.RegistrationTokenPrefix {
		return store.Client{}, bad
	}
	c, err := s.db.ClientByRegistrationHash(ctx, credential.Hash(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && c.ID != id {
		return store.Client{}, bad
	}
	return c, err
}

// ReadRegistration answers RFC 7592 §2.1 for client id.
func (s *Service) ReadRegistration(ctx context.Context, id, token string) (RegistrationResponse, error) {
	c, err := s.registered(ctx, id, token)
	if err != nil {
		return RegistrationResponse{}, err
	}
	return s.registrationResponse(c, "", token), nil
}

// UpdateRegistration replaces the metadata of client id (RFC 7592 §2.2).
// The secret and the registration access token stay the same.
func (s *Service) UpdateRegistration(ctx context.Context, id, token, ip string, req Registration) (RegistrationResponse, error) {
	c, err := s.registered(ctx, id, token)
	if err != nil {
		return RegistrationResponse{}, err
	}
	if req.ClientID != "" && req.ClientID != id || req.ClientSecret != "" && !secretMatches(c, req.ClientSecret) {
		return RegistrationResponse{}, invalidRequest("client_id and client_secret, when sent, must be the client's own")
	}
	if err := checkRegistration(req); err != nil {
		return RegistrationResponse{}, err
	}
	if req.TokenEndpointAuthMethod == "" {
		req.TokenEndpointAuthMethod = AuthSecretBasic
	}
	if req.GrantTypes == nil {
		req.GrantTypes = []string{GrantClientCredentials}
	}
	if req.AccessTokenFormat == "" {
		req.AccessTokenFormat = FormatJWT
	}
	var jwks *json.RawMessage
	if len(req.JWKS) > 0 {
		jwks = &req.JWKS
	}
	now := s.clock()
	var withdrawn []string
	c, err = s.db.UpdateClient(ctx, id, func(c *store.Client) (store.Event, error) {
		before := *c
		if jwks == nil {
			c.JWKS = nil
		}
		err := s.apply(ctx, c, api.UpdateClientRequest{Name: &req.ClientName, GrantTypes: &req.GrantTypes,
			APIScopes: &req.APIScopes, AccessTokenFormat: &req.AccessTokenFormat,
			TokenEndpointAuthMethod: &req.TokenEndpointAuthMethod, JWKS: req.JWKS})
		if err != nil {
			return store.Event{}, metadataError(err)
		}
		c.UpdatedAt = now
		withdrawn = withdrawnAPIs(before, *c)
		return audit.Change(audit.Actor{ID: id, IP: ip}, now, "client.update", "client", c.ID, ClientView(before), ClientView(*c))
	})
	if err != nil {
		return RegistrationResponse{}, err
	}
	if err := s.revokeFamilies(ctx, audit.Actor{ID: id, IP: ip}, id, withdrawn, now); err != nil {
		return RegistrationResponse{}, err
	}
	return s.registrationResponse(c, "", token), nil
}

// DeleteRegistration deletes client id (RFC 7592 §2.3).
func (s *Service) DeleteRegistration(ctx context.Context, id, token, ip string) error {
	if _, err := s.registered(ctx, id, token); err != nil {
		return err
	}
	return s.DeleteClient(ctx, audit.Actor{ID: id, IP: ip}, id)
}

func (s *Service) registrationResponse(c store.Client, secret, regToken string) RegistrationResponse {
	out := RegistrationResponse{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: c.CreatedAt.Unix(),
		RegistrationAccessToken: regToken, RegistrationClientURI: s.issuer + RegisterPath + "/" + c.ID,
		ClientName: c.Name, GrantTypes: c.GrantTypes, ResponseTypes: []string{}, TokenEndpointAuthMethod: c.AuthMethod,
		JWKS: c.JWKS, APIScopes: c.APIScopes, AccessTokenFormat: c.TokenFormat}
	if c.AuthMethod != AuthPrivateKeyJWT {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	return out
}
