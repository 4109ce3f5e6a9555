package oauth_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

func ptr[T any](v T) *T { return &v }

// TestRefreshRefusedAndFamilyRevokedWhenClientLosesAPI removes an API from
// a client: its refresh tokens for that API stop working, and the access
// tokens issued with them are revoked (M1).
func TestRefreshRefusedAndFamilyRevokedWhenClientLosesAPI(t *testing.T) {
	for _, format := range []string{"jwt", "opaque"} {
		t.Run(format, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = format })
			got := e.token(t, c, "resource", e.billing.Audience)
			first := e.refresh(t, c, got.RefreshToken)
			if first.Status != 200 {
				t.Fatalf("refresh before the change: %d %s", first.Status, first.Error)
			}
			_, err := e.Client.UpdateClient(t.Context(), c.Client.ID, api.UpdateClientRequest{
				APIScopes: &map[string][]string{e.shipping.ID: {"ship"}}})
			if err != nil {
				t.Fatal(err)
			}
			// The change itself revokes the family, before any refresh.
			for _, at := range []string{got.AccessToken, first.AccessToken} {
				if code := e.verifyCode(t, at, e.billing.Audience); code == api.CodeValid {
					t.Errorf("an access token of the family still verifies %s after the change", code)
				}
			}
			if a := e.refresh(t, c, first.RefreshToken); a.Status != 400 || a.Error != "invalid_grant" {
				t.Errorf("refresh after the client lost the API: %d %q, want 400 invalid_grant", a.Status, a.Error)
			}
		})
	}
}

// TestRefreshRevokesFamilyWhenNoScopeIsLeft takes every scope of the
// refresh token away from the client: refresh is invalid_grant and the
// family is revoked, rather than minting scopeless tokens (M1).
func TestRefreshRevokesFamilyWhenNoScopeIsLeft(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	got := e.token(t, c, "resource", e.billing.Audience, "scope", "write")
	_, err := e.Client.UpdateClient(t.Context(), c.Client.ID, api.UpdateClientRequest{
		APIScopes: &map[string][]string{e.billing.ID: {"read"}, e.shipping.ID: {"ship"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.refresh(t, c, got.RefreshToken); a.Status != 400 || a.Error != "invalid_grant" {
		t.Fatalf("refresh with no scope left: %d %q %q, want 400 invalid_grant", a.Status, a.Error, a.Scope)
	}
	if code := e.verifyCode(t, got.AccessToken, e.billing.Audience); code == api.CodeValid {
		t.Errorf("the family's access token verifies %s after the family was revoked", code)
	}
}

// TestScopeRemovedFromAPIIsNeitherIssuedNorRefreshed removes a scope from
// an API: client_credentials no longer grants it, and refresh narrows the
// family's scope to what is left (L6; RFC 6749 §6).
func TestScopeRemovedFromAPIIsNeitherIssuedNorRefreshed(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	old := e.token(t, c, "resource", e.billing.Audience)
	if old.Scope != "read write" {
		t.Fatalf("scope before the change = %q", old.Scope)
	}
	if _, err := e.Client.UpdateAPI(t.Context(), e.billing.ID, api.UpdateAPIRequest{Scopes: &[]string{"read"}}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(6 * time.Second) // past the 5 s cache of APIs
	if a := e.token(t, c, "resource", e.billing.Audience); a.Scope != "read" {
		t.Errorf("client_credentials after the API dropped write: scope %q, want read", a.Scope)
	}
	a := e.post(t, "/oauth2/token", c, form("grant_type", "client_credentials", "resource", e.billing.Audience, "scope", "write"))
	if a.Status != 400 || a.Error != "invalid_scope" {
		t.Errorf("asking for the removed scope: %d %q, want 400 invalid_scope", a.Status, a.Error)
	}
	r := e.refresh(t, c, old.RefreshToken)
	if r.Status != 200 || r.Scope != "read" {
		t.Fatalf("refresh after the API dropped write: %d %q scope %q, want 200 with scope read", r.Status, r.Error, r.Scope)
	}
	if code := e.verifyCode(t, r.AccessToken, e.billing.Audience, "write"); code != api.CodeInsufficientScope {
		t.Errorf("the refreshed token with scope write verifies %s, want INSUFFICIENT_SCOPE", code)
	}
	// The narrowed family stays narrowed: the refresh token it got has read only.
	if r2 := e.refresh(t, c, r.RefreshToken); r2.Scope != "read" {
		t.Errorf("second refresh: scope %q, want read", r2.Scope)
	}
}

// TestRefreshFamilyEndsAtItsAbsoluteLifetime rotates a family before its
// refresh_token_ttl is over: rotation does not extend the family (M1).
func TestRefreshFamilyEndsAtItsAbsoluteLifetime(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(r *api.CreateClientRequest) { r.RefreshTokenTTL = ptr(api.Duration(time.Hour)) })
	rt := e.token(t, c, "resource", e.billing.Audience).RefreshToken
	e.Clock.Advance(40 * time.Minute)
	a := e.refresh(t, c, rt)
	if a.Status != 200 {
		t.Fatalf("refresh within the lifetime: %d %s", a.Status, a.Error)
	}
	e.Clock.Advance(30 * time.Minute) // 70 minutes after the family started
	if b := e.refresh(t, c, a.RefreshToken); b.Status != 400 || b.Error != "invalid_grant" {
		t.Errorf("refresh 70 minutes into a 1 h family: %d %q, want 400 invalid_grant", b.Status, b.Error)
	}
}

// TestRefreshRaceLoserKeepsWinnersTokens refreshes one token from 8
// requests at once: one wins, the others fail, and the winner's new tokens
// stay good (I13).
func TestRefreshRaceLoserKeepsWinnersTokens(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = "opaque" })
	rt := e.token(t, c, "resource", e.billing.Audience).RefreshToken
	answers := make([]answer, 8)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = e.refresh(t, c, rt) })
	}
	wg.Wait()
	var winner *answer
	for i, a := range answers {
		switch {
		case a.Status == 200 && winner == nil:
			winner = &answers[i]
		case a.Status == 200:
			t.Error("two refreshes of one token both succeeded")
		case a.Error != "invalid_grant":
			t.Errorf("a losing refresh: %d %q, want invalid_grant", a.Status, a.Error)
		}
	}
	if winner == nil {
		t.Fatal("no refresh succeeded")
	}
	if code := e.verifyCode(t, winner.AccessToken, e.billing.Audience); code != api.CodeValid {
		t.Errorf("the winner's access token verifies %s, want VALID", code)
	}
	if a := e.refresh(t, c, winner.RefreshToken); a.Status != 200 {
		t.Errorf("the winner's refresh token: %d %q, want 200", a.Status, a.Error)
	}
}

// TestRefreshReuseAfterGraceRevokesFamily presents a used refresh token
// after the race grace: the family is revoked, the successor included.
func TestRefreshReuseAfterGraceRevokesFamily(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = "opaque" })
	rt := e.token(t, c, "resource", e.billing.Audience).RefreshToken
	next := e.refresh(t, c, rt)
	if next.Status != 200 {
		t.Fatalf("refresh: %d %s", next.Status, next.Error)
	}
	e.Clock.Advance(6 * time.Second)
	if a := e.refresh(t, c, rt); a.Error != "invalid_grant" {
		t.Fatalf("reuse after the grace: %d %q, want invalid_grant", a.Status, a.Error)
	}
	if code := e.verifyCode(t, next.AccessToken, e.billing.Audience); code != api.CodeRevoked {
		t.Errorf("the successor's access token verifies %s, want REVOKED", code)
	}
	if a := e.refresh(t, c, next.RefreshToken); a.Error != "invalid_grant" {
		t.Errorf("the successor refresh token after a reuse: %d %q, want invalid_grant", a.Status, a.Error)
	}
}
