package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// introspectAsKey introspects token with key as bearer.
func (e *env) introspectAsKey(t *testing.T, key, token string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	return do(t, req)
}

func (e *env) key(t *testing.T, req api.CreateKeyRequest) string {
	t.Helper()
	if req.Subject == "" {
		req.Subject = "cust_1"
	}
	k, err := e.Client.CreateKey(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k.Secret
}

func active(a answer) bool { return a.Active != nil && *a.Active }

// TestIntrospectionByClientAnswersOnlyForItsOwnTokens introspects every
// kind of token as an OAuth client: only tokens issued to that client are
// described; others, API keys and admin keys read as inactive with
// nothing more (L4, RFC 7662 §4).
func TestIntrospectionByClientAnswersOnlyForItsOwnTokens(t *testing.T) {
	e := newEnv(t)
	own := e.client(t, nil)
	other := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = "opaque" })
	ownJWT := e.token(t, own, "resource", e.billing.Audience)
	otherOpaque := e.token(t, other, "resource", e.billing.Audience)
	otherJWT := e.token(t, e.client(t, nil), "resource", e.billing.Audience)
	apiKey := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Scopes: []string{"read"}})
	for _, tt := range []struct {
		name, token string
		active      bool
	}{
		{"own JWT access token", ownJWT.AccessToken, true},
		{"own refresh token", ownJWT.RefreshToken, true},
		{"another client's opaque access token", otherOpaque.AccessToken, false},
		{"another client's refresh token", otherOpaque.RefreshToken, false},
		{"another client's JWT access token", otherJWT.AccessToken, false},
		{"an API key", apiKey, false},
		{"the admin key", e.AdminKey, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post(t, "/oauth2/introspect", own, form("token", tt.token))
			if a.Status != 200 || active(a) != tt.active {
				t.Fatalf("introspection: %d %v, want active %v", a.Status, a.Raw, tt.active)
			}
			if !tt.active && len(a.Raw) != 1 {
				t.Errorf("an inactive answer says more than active:false: %v", a.Raw)
			}
		})
	}
	// Admin keys keep full introspection.
	for _, tok := range []string{otherOpaque.AccessToken, otherJWT.AccessToken, otherOpaque.RefreshToken, apiKey} {
		if a := e.introspectAsKey(t, e.AdminKey, tok); !active(a) {
			t.Errorf("admin introspection of %.8s…: %v, want active", tok, a.Raw)
		}
	}
}

// TestIntrospectionSpendsNoRateLimit introspects a rate-limited key more
// often than its limit allows: the key keeps its whole allowance (L4).
func TestIntrospectionSpendsNoRateLimit(t *testing.T) {
	e := newEnv(t)
	verifyKey := e.key(t, api.CreateKeyRequest{APIID: "api_tokend", Scopes: []string{"tokend:verify"}})
	k := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID,
		RateLimits: []api.RateLimit{{Name: "m", Limit: 2, Window: api.Duration(time.Minute)}}})
	for range 5 {
		if a := e.introspectAsKey(t, verifyKey, k); !active(a) {
			t.Fatalf("introspection: %d %v, want active", a.Status, a.Raw)
		}
	}
	for i := range 2 {
		if code := e.verifyCode(t, k, e.billing.Audience); code != api.CodeValid {
			t.Errorf("verification %d after 5 introspections: %s, want VALID", i+1, code)
		}
	}
}

// TestIntrospectionOfKeyWithoutCreditsIsInactive introspects keys with 0
// and 1 credits left: 0 reads inactive, and asking spends nothing (L4).
func TestIntrospectionOfKeyWithoutCreditsIsInactive(t *testing.T) {
	e := newEnv(t)
	empty := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Credits: &api.Credits{Remaining: 0}})
	if a := e.introspectAsKey(t, e.AdminKey, empty); active(a) {
		t.Errorf("a key with no credits left introspects %v, want inactive", a.Raw)
	}
	one := e.key(t, api.CreateKeyRequest{APIID: e.billing.ID, Credits: &api.Credits{Remaining: 1}})
	for range 3 {
		if a := e.introspectAsKey(t, e.AdminKey, one); !active(a) {
			t.Fatalf("a key with a credit left introspects %v, want active", a.Raw)
		}
	}
	if code := e.verifyCode(t, one, e.billing.Audience); code != api.CodeValid {
		t.Errorf("verification after introspections: %s, want VALID (the credit still there)", code)
	}
}
