package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// DocumentFetcher fetches client ID metadata documents
// (draft-ietf-oauth-client-id-metadata-document); *fetch.Fetcher is the
// implementation, which guards against server-side request forgery.
// Fetch returns the body at url and how long it may be reused (0: not
// at all). Its errors' text is shown to the client and must say nothing
// the client should not learn. It is safe for concurrent use.
type DocumentFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, time.Duration, error)
}

// IsMetadataURL reports whether a client_id is the URL of a client ID
// metadata document rather than an id tokend issued.
func IsMetadataURL(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// maxMetadataURL bounds the length of a metadata document's URL.
const maxMetadataURL = 500

// checkMetadataURL enforces the draft's rules on a client_id URL (§3):
// https (http only reaches the fetcher, which refuses it unless told
// otherwise), a path, no dot segments, no fragment, no user information.
func checkMetadataURL(id string) error {
	u, err := url.Parse(id)
	switch {
	case err != nil || len(id) > maxMetadataURL:
		return invalidClientID("client_id is not a URL of at most %d characters", maxMetadataURL)
	case u.Path == "" || u.Path == "/":
		return invalidClientID("a client_id URL must have a path")
	case u.Fragment != "" || strings.Contains(id, "#") || u.User != nil:
		return invalidClientID("a client_id URL must have neither fragment nor user information")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return invalidClientID("a client_id URL must not have . or .. path segments")
		}
	}
	return nil
}

func invalidClientID(format string, args ...any) *Error {
	return newError(400, ErrInvalidClient, format, args...)
}

// metadataDocument is a client ID metadata document: RFC 7591 client
// metadata with client_id, the document's own URL.
type metadataDocument struct {
	Registration
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
}

// lookupClient finds the client a request from ip names: a metadata
// document client, fetched (or from the cache), when id is a URL and the
// Service accepts them, else a client from the store. A fetch counts
// against ip's fetch limit, and is not made when ip is over it.
func (s *Service) lookupClient(ctx context.Context, id, ip string) (store.Client, error) {
	if !IsMetadataURL(id) {
		return s.client(ctx, id)
	}
	if s.documents == nil {
		return store.Client{}, invalidClientID("this server does not accept client ID metadata documents")
	}
	now := s.now()
	if c, ok := s.docClients.get(id, now); ok {
		return c, nil
	}
	if err := checkMetadataURL(id); err != nil {
		return store.Client{}, err
	}
	if e := s.fetches.allow(ctx, ip, now); e != nil {
		return store.Client{}, e
	}
	body, fresh, err := s.documents.Fetch(ctx, id)
	if err != nil {
		s.log.InfoContext(ctx, "client metadata document refused", "client_id", id, "err", err)
		return store.Client{}, invalidClientID("the client ID metadata document could not be fetched: %s", err.Error())
	}
	c, err := s.documentClient(ctx, id, body)
	if err != nil {
		return store.Client{}, err
	}
	if c, err = s.saveDocumentClient(ctx, c); err != nil {
		return store.Client{}, err
	}
	// Read after the save, whose own announcement drops the entry.
	gen := s.docClients.generation()
	if fresh > 0 {
		s.docClients.putUntil(id, c, now.Add(fresh), gen)
	}
	return c, nil
}

// documentClient builds the client a metadata document at id describes:
// a public client (token_endpoint_auth_method none) with the redirect
// URIs, grants and scope it lists, under the same rules as a dynamic
// registration.
func (s *Service) documentClient(ctx context.Context, id string, body []byte) (store.Client, error) {
	var doc metadataDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return store.Client{}, invalidClientID("the client ID metadata document is not a JSON object")
	}
	switch doc.TokenEndpointAuthMethod {
	case "", AuthNone:
		doc.TokenEndpointAuthMethod = AuthNone
	case AuthPrivateKeyJWT:
		return store.Client{}, invalidClientID("client ID metadata documents with %s are not supported; use %s (PKCE)", AuthPrivateKeyJWT, AuthNone)
	default:
		return store.Client{}, invalidClientID("a client ID metadata document cannot use %s: it would publish a shared secret", doc.TokenEndpointAuthMethod)
	}
	switch {
	case doc.ClientID != id:
		return store.Client{}, invalidClientID("the client ID metadata document's client_id is not its own URL")
	case doc.ClientSecret != "" || doc.ClientSecretExpiresAt != nil:
		return store.Client{}, invalidClientID("a client ID metadata document must not hold a client secret")
	case slices.Contains(doc.GrantTypes, GrantClientCredentials):
		return store.Client{}, invalidClientID("a client ID metadata document describes public clients (%s), which cannot use %s", AuthNone, GrantClientCredentials)
	case doc.GrantTypes == nil:
		doc.GrantTypes = []string{GrantAuthorizationCode}
	}
	doc.ClientID, doc.AccessTokenFormat = "", ""
	if doc.ClientName == "" {
		u, _ := url.Parse(id)
		doc.ClientName = u.Host
	}
	cr, meta, err := s.fromRegistration(ctx, doc.Registration)
	if err != nil {
		return store.Client{}, documentError(err)
	}
	c, err := s.newClient(ctx, cr, s.clock())
	if err != nil {
		return store.Client{}, documentError(metadataError(err))
	}
	c.ID, c.Meta, c.Dynamic = id, meta, true
	if gated, err := s.needsApproval(ctx, c.APIScopes); err != nil {
		return store.Client{}, err
	} else if gated {
		c.Approval.State = store.ApprovalPending
	}
	return c, nil
}

// documentError says that a metadata problem is the document's.
func documentError(err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return invalidClientID("the client ID metadata document is not acceptable: %s", e.Description)
	}
	return err
}

// saveDocumentClient stores c, a metadata document client, so that
// codes, grants and tokens can refer to it: it creates it, or updates
// the stored one when the document changed, and returns what is stored.
func (s *Service) saveDocumentClient(ctx context.Context, c store.Client) (store.Client, error) {
	by := audit.Actor{ID: "metadata-document"}
	old, err := s.db.ClientByID(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		evs, err := registerEvents(by, c.CreatedAt, c)
		if err != nil {
			return store.Client{}, err
		}
		err = s.db.CreateClient(ctx, c, evs[0], evs[1:]...)
		if !errors.Is(err, store.ErrConflict) { // else created meanwhile, perhaps by another node
			return c, err
		}
		old, err = s.db.ClientByID(ctx, c.ID)
	}
	if err != nil {
		return store.Client{}, err
	}
	if sameSettings(old, c) {
		return old, nil
	}
	var withdrawn []string
	now := s.clock()
	c, err = s.db.UpdateClientEvents(ctx, c.ID, func(cur *store.Client) ([]store.Event, error) {
		before := *cur
		created := cur.CreatedAt
		*cur = c
		// A document's change keeps the client's approval (a pending
		// client stays pending, a denial stands), except that a client
		// that needed none, or was approved for less, waits once its
		// document reaches an API that holds new clients for approval
		// (as an RFC 7592 update may not widen it): then, and only
		// then, the administrators are asked (approval.requested), so
		// that a client held pending is asked about once, however often
		// its document is fetched again. The decision is made on the
		// row this transaction locked, so two nodes refetching at once
		// ask once between them.
		cur.CreatedAt, cur.UpdatedAt = created, now
		cur.Approval = before.Approval
		switch before.Approval.State {
		case "", store.ApprovalApproved:
			if c.Approval.State == store.ApprovalPending && s.widens(ctx, before, c) {
				cur.Approval = store.Approval{State: store.ApprovalPending}
			}
		}
		withdrawn = withdrawnAPIs(before, *cur)
		ev, err := audit.Change(by, now, "client.update", "client", c.ID, ClientView(before), ClientView(*cur))
		if err != nil || before.Approval.State == store.ApprovalPending || cur.Approval.State != store.ApprovalPending {
			return []store.Event{ev}, err
		}
		req, err := approvalRequested(by, now, *cur)
		return []store.Event{ev, req}, err
	})
	if err != nil {
		return store.Client{}, fmt.Errorf("update metadata document client: %w", err)
	}
	return c, s.revokeFamilies(ctx, by, c.ID, withdrawn, now)
}

// sameSettings reports whether the settings a document gives are the
// same in a and b; an empty list and none are the same.
func sameSettings(a, b store.Client) bool {
	return a.Name == b.Name && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		maps.EqualFunc(a.APIScopes, b.APIScopes, slices.Equal) && a.TokenFormat == b.TokenFormat &&
		a.AuthMethod == b.AuthMethod && bytes.Equal(a.JWKS, b.JWKS) && slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs) && a.IDTokenAlg == b.IDTokenAlg &&
		a.AccessTokenTTL == b.AccessTokenTTL && a.RefreshTokenTTL == b.RefreshTokenTTL && a.Dynamic == b.Dynamic &&
		a.Meta.ClientURI == b.Meta.ClientURI && a.Meta.LogoURI == b.Meta.LogoURI &&
		slices.Equal(a.Meta.Contacts, b.Meta.Contacts) && a.Meta.ApplicationType == b.Meta.ApplicationType &&
		a.Meta.Scope == b.Meta.Scope
}
