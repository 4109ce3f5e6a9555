package oauth

import (
	"context"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// The OpenID Connect scopes (OIDC Core §5.4, §11) and groups, which
// tokend adds. They belong to no API: they ask for claims about the user
// and, for offline_access, for a refresh token.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeGroups        = "groups"
	ScopeOfflineAccess = "offline_access"
)

// OIDCScopes lists the OpenID scopes tokend understands.
var OIDCScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeGroups, ScopeOfflineAccess}

// userScopes is what a user grant asks for, resolved: the OpenID scopes,
// the API (nil when none is asked for: the token is then for tokend's
// userinfo alone) and the scopes on it.
type userScopes struct {
	oidc []string
	api  *store.API
	apiS []string
}

// all returns every scope, OpenID ones first.
func (u userScopes) all() []string { return append(slices.Clone(u.oidc), u.apiS...) }

// resolveUserScopes resolves the scope and resource parameters of a user
// grant (authorization code or device) for client c. Without scope the
// client's registered scope applies, or openid. An API scope names its
// API unless resource does; a resource that is no API the client may use
// is invalid_target (RFC 8707 §2); a scope that is neither OpenID's nor
// the client's on the API is invalid_scope. offline_access is dropped
// for a client without the refresh_token grant (OIDC Core §11).
func (s *Service) resolveUserScopes(ctx context.Context, c store.Client, scope string, resources []string) (userScopes, error) {
	if scope == "" {
		scope = c.Meta.Scope
	}
	if scope == "" && len(resources) == 0 {
		scope = ScopeOpenID
	}
	var out userScopes
	var rest []string
	for sc := range strings.SplitSeq(scope, " ") {
		switch {
		case sc == "" || slices.Contains(out.oidc, sc) || slices.Contains(rest, sc):
		case valid.Scope("scope", sc) != nil:
			return userScopes{}, invalidScope("scope has a character RFC 6749 forbids")
		case sc == ScopeOfflineAccess && !slices.Contains(c.GrantTypes, GrantRefreshToken):
		case slices.Contains(OIDCScopes, sc):
			out.oidc = append(out.oidc, sc)
		default:
			rest = append(rest, sc)
		}
	}
	if len(resources) > 1 {
		return userScopes{}, invalidTarget("give at most one resource: a token has one audience")
	}
	a, err := s.userAPI(ctx, c, rest, resources)
	if err != nil || a == nil {
		return out, err
	}
	allowed := userGrantable(c, *a)
	for _, sc := range rest {
		if !slices.Contains(allowed, sc) {
			return userScopes{}, invalidScope("the client may not request scope %q here", sc)
		}
	}
	if len(rest) == 0 {
		rest = allowed // a resource without scopes asks for what the client may have there
	}
	out.api, out.apiS = a, rest
	return out, nil
}

// userAPI picks the API of a user grant: the one named by resource, or
// the one API of the client whose scopes hold every scope of apiScopes;
// nil when neither a resource nor an API scope is asked for.
func (s *Service) userAPI(ctx context.Context, c store.Client, apiScopes, resources []string) (*store.API, error) {
	if len(resources) == 0 && len(apiScopes) == 0 {
		return nil, nil
	}
	apis, err := s.listAPIs(ctx)
	if err != nil {
		return nil, err
	}
	var fits []store.API
	for _, a := range apis {
		if a.ID == apikey.SystemAPIID {
			continue
		}
		if len(resources) == 1 {
			if a.Audience != resources[0] {
				continue
			}
			if !mayUse(c, a) {
				return nil, invalidTarget("the client may not get tokens for this resource")
			}
			return &a, nil
		}
		if mayUse(c, a) && subset(apiScopes, userGrantable(c, a)) {
			fits = append(fits, a)
		}
	}
	switch {
	case len(resources) == 1:
		return nil, invalidTarget("the resource is not an API registered at tokend")
	case len(fits) == 1:
		return &fits[0], nil
	case len(fits) == 0:
		return nil, invalidScope("no API the client may use has all of the scopes %q", strings.Join(apiScopes, " "))
	}
	return nil, invalidTarget("the scopes belong to several APIs: name one with resource")
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// userinfoAPI stands for the API of user grants that ask for none: their
// tokens are stored under tokend's own API id, and a JWT among them names
// the userinfo endpoint as its audience, so that it is good for userinfo
// only (the verification engine never takes tokend's own audience for a
// JWT, and no OAuth token authenticates to the management API).
func (s *Service) userinfoAPI() store.API {
	return store.API{ID: apikey.SystemAPIID, Name: "tokend", Audience: s.issuer + UserinfoPath}
}

// userGrantable is what client c may be granted on API a for a person:
// its scopes there, and for a dynamically registered client also every
// scope a offers such clients (policy.dynamic_client_scopes), whatever
// the client registered: the API's owner decides, and the person
// consents.
func userGrantable(c store.Client, a store.API) []string {
	out := grantable(c, a)
	if c.Dynamic {
		for _, sc := range intersect(a.Policy.DynamicClientScopes, a.Scopes) {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

// mayUse reports whether client c may get user tokens for API a.
func mayUse(c store.Client, a store.API) bool {
	_, ok := c.APIScopes[a.ID]
	return ok || len(userGrantable(c, a)) > 0
}
