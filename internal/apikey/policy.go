package apikey

import (
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// maxUserScopes bounds the entries of an API's policy.user_scopes.
const maxUserScopes = 100

// checkPATPolicy validates the personal-access-token half of an API's
// policy: each user_scopes entry names one group or everyone, with
// scopes the API defines; pat_max_ttl is bounded; and "no expiry" is
// allowed only where no maximum lifetime applies.
func checkPATPolicy(p api.Policy, scopes []string) error {
	if len(p.UserScopes) > maxUserScopes {
		return valid.Errorf("policy.user_scopes", "at most %d entries", maxUserScopes)
	}
	for _, u := range p.UserScopes {
		if u.Everyone == (u.Group != "") {
			return valid.Errorf("policy.user_scopes", "each entry names a group or sets everyone, not both or neither")
		}
		if u.Group != "" {
			if err := valid.Text("policy.user_scopes", u.Group, 1, 128); err != nil {
				return err
			}
		}
		if err := valid.Scopes("policy.user_scopes", u.Scopes); err != nil {
			return err
		}
		if err := valid.Subset("policy.user_scopes", u.Scopes, scopes); err != nil {
			return err
		}
	}
	if err := valid.Duration("policy.pat_max_ttl", p.PATMaxTTL.Std(), 0, MaxTTL); err != nil {
		return err
	}
	if p.PATAllowNoExpiry && (p.PATMaxTTL > 0 || p.MaxKeyTTL > 0) {
		return valid.Errorf("policy.pat_allow_no_expiry", "cannot be set while pat_max_ttl or max_key_ttl caps lifetimes")
	}
	return nil
}

func userScopes(us []api.UserScopes) []store.UserScopes {
	if len(us) == 0 {
		return nil
	}
	out := make([]store.UserScopes, len(us))
	for i, u := range us {
		out[i] = store.UserScopes{Group: u.Group, Everyone: u.Everyone, Scopes: nonNil(slices.Clone(u.Scopes))}
	}
	return out
}

func userScopesView(us []store.UserScopes) []api.UserScopes {
	if len(us) == 0 {
		return nil
	}
	out := make([]api.UserScopes, len(us))
	for i, u := range us {
		out[i] = api.UserScopes{Group: u.Group, Everyone: u.Everyone, Scopes: nonNil(u.Scopes)}
	}
	return out
}

// Grantable returns the scopes a member of groups may hold in personal
// access tokens under p, and whether they may hold one at all (some
// entry of p.UserScopes matches them).
func Grantable(p store.Policy, groups []string) (scopes []string, eligible bool) {
	for _, u := range p.UserScopes {
		if !u.Everyone && !slices.Contains(groups, u.Group) {
			continue
		}
		eligible = true
		for _, sc := range u.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	return scopes, eligible
}

// MayHold reports whether a member of groups may hold a personal access
// token with scopes under p. Verification asks it on every cache fill,
// so a token stops working as soon as its owner loses the group that
// granted one of its scopes, and works again if the group comes back.
// It allocates nothing.
func MayHold(p store.Policy, groups, scopes []string) bool {
	eligible := false
	for _, u := range p.UserScopes {
		if u.Everyone || slices.Contains(groups, u.Group) {
			eligible = true
			break
		}
	}
	if !eligible {
		return false
	}
	for _, sc := range scopes {
		if !grants(p, groups, sc) {
			return false
		}
	}
	return true
}

func grants(p store.Policy, groups []string, scope string) bool {
	for _, u := range p.UserScopes {
		if (u.Everyone || slices.Contains(groups, u.Group)) && slices.Contains(u.Scopes, scope) {
			return true
		}
	}
	return false
}

// PATMaxTTL is the longest lifetime p allows a personal access token:
// pat_max_ttl, else max_key_ttl; 0 means no cap.
func PATMaxTTL(p store.Policy) time.Duration { return patMaxTTL(p) }

func patMaxTTL(p store.Policy) time.Duration {
	if p.PATMaxTTL > 0 {
		return p.PATMaxTTL
	}
	return p.MaxKeyTTL
}
