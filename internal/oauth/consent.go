package oauth

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// grantCovers reports whether user userID's stored grant to client
// clientID holds every scope and the API of us.
func (s *Service) grantCovers(ctx context.Context, userID, clientID string, us userScopes) (bool, error) {
	g, err := s.db.GrantFor(ctx, userID, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if us.api != nil && !slices.Contains(g.APIIDs, us.api.ID) {
		return false, nil
	}
	return subset(us.all(), g.Scopes), nil
}

// ScopeInfo is one scope as the consent page shows it: its name and the
// words the API's owner wrote for it, if any.
type ScopeInfo struct {
	Name        string
	Description string
}

// ConsentRequest is what the consent page asks the person: which app
// (its name, and for a dynamically registered one the host it redirects
// to, since anyone can register any name), which API and which scopes.
type ConsentRequest struct {
	ClientName string
	Dynamic    bool
	// DocumentHost is the host serving the client ID metadata document
	// that describes the client, when one does: the one name in the
	// request that its author cannot choose freely.
	DocumentHost string
	RedirectHost string
	ClientURI    string
	APIName      string
	Scopes       []ScopeInfo
}

// ConsentFor describes a for the consent page. OpenID scopes are
// described by tokend.
func (s *Service) ConsentFor(a *Authorization) ConsentRequest {
	cr := ConsentRequest{ClientName: a.Client.Name, Dynamic: a.Client.Dynamic, ClientURI: a.Client.Meta.ClientURI}
	if u, err := url.Parse(a.Client.ID); err == nil && IsMetadataURL(a.Client.ID) {
		cr.DocumentHost = u.Host
	}
	if u, err := url.Parse(a.RedirectURI); err == nil {
		cr.RedirectHost = u.Host
		if cr.RedirectHost == "" {
			cr.RedirectHost = u.Scheme + ":"
		}
	}
	for _, sc := range a.scopes.oidc {
		cr.Scopes = append(cr.Scopes, ScopeInfo{Name: sc, Description: oidcScopeText[sc]})
	}
	if api := a.scopes.api; api != nil {
		cr.APIName = api.Name
		for _, sc := range a.scopes.apiS {
			cr.Scopes = append(cr.Scopes, ScopeInfo{Name: sc, Description: api.Policy.ScopeDescriptions[sc]})
		}
	}
	return cr
}

var oidcScopeText = map[string]string{
	ScopeOpenID:        "Know who you are (your account id)",
	ScopeProfile:       "See your name and username",
	ScopeEmail:         "See your email address",
	ScopeGroups:        "See the groups you belong to",
	ScopeOfflineAccess: "Keep access while you are away (a refresh token)",
}

// Consent records that the signed-in user userID consents to a: the
// grant becomes the union of what they allowed the client before and
// now, so that a later request within it skips the consent page.
func (s *Service) Consent(ctx context.Context, by audit.Actor, a *Authorization, userID string) error {
	now := s.clock()
	g := store.Grant{UserID: userID, ClientID: a.Client.ID, CreatedAt: now, LastUsedAt: now}
	old, err := s.db.GrantFor(ctx, userID, a.Client.ID)
	switch {
	case err == nil:
		g.Scopes, g.APIIDs, g.CreatedAt = old.Scopes, old.APIIDs, old.CreatedAt
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	for _, sc := range a.scopes.all() {
		if !slices.Contains(g.Scopes, sc) {
			g.Scopes = append(g.Scopes, sc)
		}
	}
	if api := a.scopes.api; api != nil && !slices.Contains(g.APIIDs, api.ID) {
		g.APIIDs = append(g.APIIDs, api.ID)
	}
	ev, err := audit.Change(by, now, "grant.consent", "client", a.Client.ID, nil,
		map[string]any{"user_id": userID, "scopes": g.Scopes, "api_ids": g.APIIDs})
	if err != nil {
		return err
	}
	return s.db.SaveGrant(ctx, g, ev)
}

// Grants returns the clients user userID has consented to.
func (s *Service) Grants(ctx context.Context, userID string) ([]store.Grant, error) {
	return s.db.ListGrants(ctx, userID)
}

// RevokeGrant withdraws user userID's consent to client clientID and
// revokes every token the client holds for them, on every node within a
// second (the store announces them). It returns store.ErrNotFound.
func (s *Service) RevokeGrant(ctx context.Context, by audit.Actor, userID, clientID string) error {
	now := s.clock()
	ev, err := audit.Change(by, now, "grant.revoke", "client", clientID, map[string]string{"user_id": userID}, nil)
	if err != nil {
		return err
	}
	_, err = s.db.RevokeGrant(ctx, userID, clientID, now, ev)
	return err
}
