package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// The token_endpoint_auth_method values (RFC 7591 §2). "none" is for
// public clients, which hold no secret: they may use the authorization
// code grant, with PKCE, and the device grant only.
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
)

// AssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Credentials is how a request tried to authenticate its client: HTTP
// Basic (RFC 6749 §2.3.1, the id and secret already form-decoded), and the
// form parameters client_id, client_secret, client_assertion_type and
// client_assertion. Path is the path of the endpoint called, under the
// issuer: its URL is an audience a client assertion may name; IP is the
// peer's address.
type Credentials struct {
	Basic       bool
	BasicID     string
	BasicSecret string
	Form        Form
	Path        string
	IP          string
}

// Authenticate identifies the calling client by exactly one method:
// client_secret_basic, client_secret_post or private_key_jwt. A client
// registered for either secret method may use both. Failures are
// invalid_client (401) *Errors that do not say what was wrong. A
// client_id not of tokend's id format is refused at once. A client id
// with too many recent failures gets 429 before any check; an address
// with too many gets 429 instead of 401 for its failures (see guard).
func (s *Service) Authenticate(ctx context.Context, cr Credentials) (store.Client, error) {
	f := cr.Form
	methods := 0
	for _, used := range []bool{cr.Basic, f.Has("client_secret"), f.Has("client_assertion") || f.Has("client_assertion_type")} {
		if used {
			methods++
		}
	}
	switch {
	case methods > 1:
		return store.Client{}, invalidRequest("use exactly one client authentication method")
	case methods == 0 && f.Has("client_id"):
		return s.publicClient(ctx, cr, f.Get("client_id"))
	case cr.Basic && cr.BasicSecret == "" && (!f.Has("client_id") || f.Get("client_id") == cr.BasicID):
		// A public client named in HTTP Basic with an empty password,
		// as golang.org/x/oauth2 and others send it.
		return s.publicClient(ctx, cr, cr.BasicID)
	case methods == 0:
		return store.Client{}, s.clientError(cr, "client authentication is required")
	case cr.Basic && f.Has("client_id") && f.Get("client_id") != cr.BasicID:
		return store.Client{}, invalidRequest("client_id differs from the client authenticated with HTTP Basic")
	}
	var id string
	var assertion *assertion
	switch {
	case cr.Basic:
		id = cr.BasicID
	case f.Has("client_secret"):
		id = f.Get("client_id")
	default:
		if f.Get("client_assertion_type") != AssertionType || !f.Has("client_assertion") {
			return store.Client{}, invalidRequest("client_assertion_type must be %s, with a client_assertion", AssertionType)
		}
		var err error
		if assertion, err = parseAssertion(f.Get("client_assertion")); err != nil {
			return store.Client{}, s.fail(cr, "", "the client assertion is not a signed JWT")
		}
		if id = assertion.subject; f.Has("client_id") && f.Get("client_id") != id {
			return store.Client{}, invalidRequest("client_id differs from the client assertion's subject")
		}
	}
	if id == "" {
		return store.Client{}, s.clientError(cr, "client_id is required")
	}
	if !ids.Valid(ClientIDPrefix, id) {
		// Not an id tokend could have issued: refused before the guard
		// or the store see it, so that it costs no memory and no query.
		return store.Client{}, s.clientError(cr, "client authentication failed")
	}
	if e := s.guard.checkClient(id, s.now()); e != nil {
		return store.Client{}, e
	}
	c, err := s.client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, s.fail(cr, "", "client authentication failed")
	}
	if err != nil {
		return store.Client{}, err
	}
	if assertion != nil {
		if err := s.checkAssertion(ctx, cr, c, assertion); err != nil {
			return store.Client{}, err
		}
		return approved(c, cr)
	}
	secret := cr.BasicSecret
	if !cr.Basic {
		secret = f.Get("client_secret")
	}
	if !secretMatches(c, secret) {
		return store.Client{}, s.fail(cr, id, "client authentication failed")
	}
	return approved(c, cr)
}

// approved returns c, or unauthorized_client when an administrator has
// not approved it; asked only once the client is authenticated, so
// that the answer tells nothing to anyone else.
func approved(c store.Client, cr Credentials) (store.Client, error) {
	if e := checkApproved(c); e != nil {
		e.Basic = cr.Basic
		return store.Client{}, e
	}
	return c, nil
}

// secretMatches compares the SHA-256 of secret with the client's stored
// hash in constant time. Clients without a secret match nothing.
func secretMatches(c store.Client, secret string) bool {
	if len(c.SecretHash) != 32 || (c.AuthMethod != AuthSecretBasic && c.AuthMethod != AuthSecretPost) {
		return false
	}
	if p, ok := credential.Parse(secret); !ok || p != credential.ClientSecretPrefix {
		return false
	}
	h := credential.Hash(secret)
	return subtle.ConstantTimeCompare(h[:], c.SecretHash) == 1
}

// fail records a failed authentication of the existing client id (""
// for none) and returns invalid_client, or 429 when the address has
// failed too often.
func (s *Service) fail(cr Credentials, id, msg string) error {
	if e := s.guard.fail(id, cr.IP, s.now()); e != nil {
		return e
	}
	return s.clientError(cr, msg)
}

func (s *Service) clientError(cr Credentials, msg string) *Error {
	return &Error{Code: ErrInvalidClient, Description: msg, Status: 401, Basic: cr.Basic}
}

// checkAssertion verifies a private_key_jwt assertion for c and records
// its jti, refusing a replay.
func (s *Service) checkAssertion(ctx context.Context, cr Credentials, c store.Client, a *assertion) error {
	if c.AuthMethod != AuthPrivateKeyJWT {
		return s.fail(cr, c.ID, "client authentication failed")
	}
	now := s.clock()
	exp, err := a.verify(c, []string{s.issuer, s.issuer + cr.Path, s.issuer + TokenPath}, now)
	if err != nil {
		s.log.DebugContext(ctx, "client assertion refused", "client_id", c.ID, "err", err)
		return s.fail(cr, c.ID, "client authentication failed")
	}
	err = s.db.UseAssertionJTI(ctx, c.ID, a.jti, exp)
	if errors.Is(err, store.ErrConflict) {
		return s.fail(cr, c.ID, "the client assertion was used before")
	}
	if err != nil {
		return fmt.Errorf("record client assertion: %w", err)
	}
	return nil
}

// publicClient identifies a client that sent only its client_id: that is
// enough for a public client (token_endpoint_auth_method none), whose
// grants are bound to a PKCE verifier or a device code instead of a
// secret; any other client must authenticate. A client_id that is a URL
// names a client ID metadata document, whose clients are all public.
func (s *Service) publicClient(ctx context.Context, cr Credentials, id string) (store.Client, error) {
	if IsMetadataURL(id) {
		c, err := s.lookupClient(ctx, id, cr.IP)
		if e, ok := errors.AsType[*Error](err); ok && e.Code == ErrInvalidClient {
			e.Status, e.Basic = 401, cr.Basic
		}
		if err != nil {
			return store.Client{}, err
		}
		return approved(c, cr)
	}
	if !ids.Valid(ClientIDPrefix, id) {
		return store.Client{}, s.clientError(cr, "client authentication failed")
	}
	c, err := s.client(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, s.fail(cr, "", "client authentication failed")
	}
	if err != nil {
		return store.Client{}, err
	}
	if c.AuthMethod != AuthNone {
		return store.Client{}, s.clientError(cr, "client authentication is required")
	}
	return approved(c, cr)
}
