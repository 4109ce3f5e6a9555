package oauth

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// Registration is the client metadata of RFC 7591 §2 and OpenID Connect
// Dynamic Client Registration §2 that tokend understands, plus two
// extensions: tokend_api_scopes, the API ids the client may get tokens
// for with their scopes, as in the management API, and
// tokend_access_token_format (jwt or opaque). Other members are ignored,
// as RFC 7591 §2 requires.
//
// scope is resolved against the APIs: OpenID scopes are kept, and any
// other scope is granted on the APIs whose policy.dynamic_client_scopes
// holds it; scopes no API offers to dynamic clients are dropped (RFC 7591
// §2: the server may register less than asked), and the answer says what
// was registered. tokend_api_scopes must stay within the same policy.
type Registration struct {
	ClientName               string              `json:"client_name"`
	GrantTypes               []string            `json:"grant_types,omitempty"`
	TokenEndpointAuthMethod  string              `json:"token_endpoint_auth_method,omitempty"`
	JWKS                     json.RawMessage     `json:"jwks,omitempty"`
	JWKSURI                  string              `json:"jwks_uri,omitempty"`
	RedirectURIs             []string            `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string            `json:"post_logout_redirect_uris,omitempty"`
	ResponseTypes            []string            `json:"response_types,omitempty"`
	Scope                    string              `json:"scope,omitempty"`
	ApplicationType          string              `json:"application_type,omitempty"`
	ClientURI                string              `json:"client_uri,omitempty"`
	LogoURI                  string              `json:"logo_uri,omitempty"`
	Contacts                 []string            `json:"contacts,omitempty"`
	IDTokenSignedResponseAlg string              `json:"id_token_signed_response_alg,omitempty"`
	DPoPBoundAccessTokens    bool                `json:"dpop_bound_access_tokens,omitempty"`
	APIScopes                map[string][]string `json:"tokend_api_scopes,omitempty"`
	AccessTokenFormat        string              `json:"tokend_access_token_format,omitempty"`
	// ClientID must accompany an RFC 7592 update, and ClientSecret may;
	// they must be the client's own.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// RegistrationResponse is the client information response of RFC 7591
// §3.2.1 and RFC 7592 §3: the registered metadata.
type RegistrationResponse struct {
	ClientID                 string              `json:"client_id"`
	ClientSecret             string              `json:"client_secret,omitempty"`
	ClientIDIssuedAt         int64               `json:"client_id_issued_at"`
	ClientSecretExpiresAt    *int64              `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken  string              `json:"registration_access_token"`
	RegistrationClientURI    string              `json:"registration_client_uri"`
	ClientName               string              `json:"client_name"`
	GrantTypes               []string            `json:"grant_types"`
	ResponseTypes            []string            `json:"response_types"`
	RedirectURIs             []string            `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs   []string            `json:"post_logout_redirect_uris,omitempty"`
	Scope                    string              `json:"scope,omitempty"`
	ApplicationType          string              `json:"application_type"`
	ClientURI                string              `json:"client_uri,omitempty"`
	LogoURI                  string              `json:"logo_uri,omitempty"`
	Contacts                 []string            `json:"contacts,omitempty"`
	IDTokenSignedResponseAlg string              `json:"id_token_signed_response_alg"`
	DPoPBoundAccessTokens    bool                `json:"dpop_bound_access_tokens"`
	TokenEndpointAuthMethod  string              `json:"token_endpoint_auth_method"`
	JWKS                     json.RawMessage     `json:"jwks,omitempty"`
	APIScopes                map[string][]string `json:"tokend_api_scopes"`
	AccessTokenFormat        string              `json:"tokend_access_token_format"`
	// Approval is present when the client waits, or waited, for an
	// administrator's approval: pending, approved, or denied with the
	// administrator's reason.
	Approval *api.ApprovalState `json:"tokend_approval,omitempty"`
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
	cr, meta, err := s.fromRegistration(ctx, req)
	if err != nil {
		return RegistrationResponse{}, err
	}
	now := s.clock()
	c, err := s.newClient(ctx, cr, now)
	if err != nil {
		return RegistrationResponse{}, metadataError(err)
	}
	c.Meta = meta
	secret := s.setSecret(&c)
	regToken := setRegistrationToken(&c)
	c.Dynamic = true
	if gated, err := s.needsApproval(ctx, c.APIScopes); err != nil {
		return RegistrationResponse{}, err
	} else if gated {
		c.Approval.State = store.ApprovalPending
	}
	evs, err := registerEvents(audit.Actor{ID: "registration", IP: ip}, now, c)
	if err != nil {
		return RegistrationResponse{}, err
	}
	if err := s.db.CreateClient(ctx, c, evs[0], evs[1:]...); err != nil {
		return RegistrationResponse{}, err
	}
	return s.registrationResponse(c, secret, regToken), nil
}

// fromRegistration turns RFC 7591 metadata into the settings of a client
// and its descriptive metadata, with the RFC's defaults: grant_types
// authorization_code when there are redirect URIs (else
// client_credentials, tokend's machine clients), response_types code
// with authorization_code.
func (s *Service) fromRegistration(ctx context.Context, req Registration) (api.CreateClientRequest, store.ClientMeta, error) {
	if err := checkRegistration(req); err != nil {
		return api.CreateClientRequest{}, store.ClientMeta{}, err
	}
	apiScopes, scope, err := s.dynamicScopes(ctx, req.Scope, req.APIScopes)
	if err != nil {
		return api.CreateClientRequest{}, store.ClientMeta{}, err
	}
	cr := api.CreateClientRequest{Name: req.ClientName, GrantTypes: req.GrantTypes, APIScopes: apiScopes,
		AccessTokenFormat: req.AccessTokenFormat, TokenEndpointAuthMethod: req.TokenEndpointAuthMethod, JWKS: req.JWKS,
		ClientSettings: api.ClientSettings{RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
			IDTokenSignedResponseAlg: req.IDTokenSignedResponseAlg, ApplicationType: req.ApplicationType,
			DPoPBoundAccessTokens: req.DPoPBoundAccessTokens}}
	if cr.Name == "" {
		cr.Name = "unnamed client"
	}
	code := slices.Contains(req.GrantTypes, GrantAuthorizationCode) || req.GrantTypes == nil && len(req.RedirectURIs) > 0
	if code != slices.Contains(req.ResponseTypes, "code") && req.ResponseTypes != nil {
		return api.CreateClientRequest{}, store.ClientMeta{}, invalidMetadata("response_types must be [\"code\"] with the %s grant, and empty without it", GrantAuthorizationCode)
	}
	meta := store.ClientMeta{ClientURI: req.ClientURI, LogoURI: req.LogoURI, Contacts: req.Contacts,
		ApplicationType: cmp.Or(req.ApplicationType, AppWeb), Scope: scope}
	if err := checkMeta(meta); err != nil {
		return api.CreateClientRequest{}, store.ClientMeta{}, err
	}
	return cr, meta, nil
}

// dynamicScopes resolves the scope and tokend_api_scopes of a
// registration against the APIs' policy.dynamic_client_scopes. It
// returns the APIs and scopes the client may obtain and the scope value
// registered.
func (s *Service) dynamicScopes(ctx context.Context, scope string, explicit map[string][]string) (map[string][]string, string, error) {
	apis, err := s.listAPIs(ctx)
	if err != nil {
		return nil, "", err
	}
	out := map[string][]string{}
	for id, scs := range explicit {
		var a *store.API
		for i := range apis {
			if apis[i].ID == id {
				a = &apis[i]
			}
		}
		if a == nil {
			return nil, "", invalidMetadata("tokend_api_scopes: %q is no API", id)
		}
		for _, sc := range scs {
			if !slices.Contains(a.Policy.DynamicClientScopes, sc) {
				return nil, "", invalidMetadata("tokend_api_scopes: API %s does not offer scope %q to dynamically registered clients", id, sc)
			}
		}
		out[id] = append([]string{}, scs...)
	}
	var kept []string
	for sc := range strings.SplitSeq(scope, " ") {
		if sc == "" || slices.Contains(kept, sc) {
			continue
		}
		if slices.Contains(OIDCScopes, sc) {
			kept = append(kept, sc)
			continue
		}
		for _, a := range apis {
			if a.ID != apikey.SystemAPIID && slices.Contains(a.Policy.DynamicClientScopes, sc) {
				if !slices.Contains(out[a.ID], sc) {
					out[a.ID] = append(out[a.ID], sc)
				}
				if !slices.Contains(kept, sc) {
					kept = append(kept, sc)
				}
			}
		}
	}
	return out, strings.Join(kept, " "), nil
}

// checkMeta validates the descriptive metadata people are shown.
func checkMeta(m store.ClientMeta) error {
	for field, u := range map[string]string{"client_uri": m.ClientURI, "logo_uri": m.LogoURI} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" || len(u) > 2000 {
			return invalidMetadata("%s must be an https URL", field)
		}
	}
	if len(m.Contacts) > 10 {
		return invalidMetadata("contacts: at most 10")
	}
	for _, c := range m.Contacts {
		if err := valid.Text("contacts", c, 1, 200); err != nil {
			return invalidMetadata("contacts: each must be 1 to 200 characters")
		}
	}
	return nil
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
	if req.JWKSURI != "" {
		return invalidMetadata("jwks_uri is not supported; send the keys as jwks")
	}
	return nil
}

// ErrInvalidRedirectURI is RFC 7591 §3.2.2's error for a bad redirect URI.
const ErrInvalidRedirectURI = "invalid_redirect_uri"

func metadataError(err error) error {
	if v, ok := errors.AsType[*valid.Error](err); ok {
		if strings.HasSuffix(v.Field, "redirect_uris") {
			return newError(400, ErrInvalidRedirectURI, "%s", v.Error())
		}
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
	if err := checkUpdateIdentity(c, req); err != nil {
		return RegistrationResponse{}, err
	}
	if req.TokenEndpointAuthMethod == "" {
		req.TokenEndpointAuthMethod = c.AuthMethod
	}
	cr, meta, err := s.fromRegistration(ctx, req)
	if err != nil {
		return RegistrationResponse{}, err
	}
	if cr.GrantTypes == nil {
		cr.GrantTypes = []string{GrantClientCredentials}
		if len(cr.RedirectURIs) > 0 {
			cr.GrantTypes = []string{GrantAuthorizationCode}
		}
	}
	cr.AccessTokenFormat = cmp.Or(cr.AccessTokenFormat, FormatJWT)
	if err := s.checkWidening(ctx, c, cr.APIScopes); err != nil {
		return RegistrationResponse{}, err
	}
	now := s.clock()
	var withdrawn []string
	c, err = s.db.UpdateClient(ctx, id, func(c *store.Client) (store.Event, error) {
		before := *c
		if len(cr.JWKS) == 0 {
			c.JWKS = nil
		}
		c.Meta = meta
		err := s.apply(ctx, c, api.UpdateClientRequest{Name: &cr.Name, GrantTypes: &cr.GrantTypes,
			APIScopes: &cr.APIScopes, AccessTokenFormat: &cr.AccessTokenFormat,
			TokenEndpointAuthMethod: &cr.TokenEndpointAuthMethod, JWKS: cr.JWKS, RedirectURIs: &cr.RedirectURIs,
			PostLogoutRedirectURIs: &cr.PostLogoutRedirectURIs, IDTokenSignedResponseAlg: &cr.IDTokenSignedResponseAlg,
			DPoPBoundAccessTokens: &cr.DPoPBoundAccessTokens})
		if err != nil {
			return store.Event{}, metadataError(err)
		}
		if audit.Same(before, *c) {
			return store.Event{}, errUnchanged // no event, no new updated_at
		}
		c.UpdatedAt = now
		withdrawn = withdrawnAPIs(before, *c)
		return audit.Change(audit.Actor{ID: id, IP: ip}, now, "client.update", "client", c.ID, ClientView(before), ClientView(*c))
	})
	if errors.Is(err, errUnchanged) {
		c, err = s.db.ClientByID(ctx, id)
	}
	if err != nil {
		return RegistrationResponse{}, err
	}
	if err := s.revokeFamilies(ctx, audit.Actor{ID: id, IP: ip}, id, withdrawn, now); err != nil {
		return RegistrationResponse{}, err
	}
	return s.registrationResponse(c, "", token), nil
}

// checkUpdateIdentity enforces RFC 7592 §2.2 on an update of client c:
// the request must include client_id, c's own, and a client_secret, if
// it includes one, must be c's current secret. Either is
// invalid_client_metadata (RFC 7591 §3.2.2, which §2.2 points to).
func checkUpdateIdentity(c store.Client, req Registration) error {
	switch {
	case req.ClientID == "":
		return invalidMetadata("client_id is required in an update (RFC 7592 §2.2): send this client's own client_id")
	case req.ClientID != c.ID:
		return invalidMetadata("client_id is not the client_id of this registration client URI")
	case req.ClientSecret != "" && !secretMatches(c, req.ClientSecret):
		return invalidMetadata("client_secret, when sent, must be this client's current secret")
	}
	return nil
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
		JWKS: c.JWKS, APIScopes: c.APIScopes, AccessTokenFormat: c.TokenFormat, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Scope: c.Meta.Scope, ApplicationType: c.Meta.ApplicationType,
		ClientURI: c.Meta.ClientURI, LogoURI: c.Meta.LogoURI, Contacts: c.Meta.Contacts, IDTokenSignedResponseAlg: idTokenAlg(c),
		DPoPBoundAccessTokens: c.DPoPBound, Approval: apikey.ApprovalView(c.Approval)}
	if slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		out.ResponseTypes = []string{"code"}
	}
	if c.AuthMethod != AuthPrivateKeyJWT && c.AuthMethod != AuthNone {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	return out
}
