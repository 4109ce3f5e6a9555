package oauth

import (
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// TestAccessTokenTTLCappedBySigningKeyWindow runs a server whose signing
// keys stay published 1 h after retirement (--max-token-ttl 1h): a client
// may not be given a longer access_token_ttl, and a client that has one
// from before gets JWTs that end within the hour (L14).
func TestAccessTokenTTLCappedBySigningKeyWindow(t *testing.T) {
	s, c, _ := newTestServiceTTL(t, time.Hour)
	ctx := t.Context()
	a := store.API{ID: "api_b", Name: "b", Audience: "https://b.example", Scopes: []string{"read"}, KeyPrefix: "bb",
		CreatedAt: s.clock(), UpdatedAt: s.clock()}
	if err := s.db.CreateAPI(ctx, a, store.Event{Time: s.clock(), Actor: "t", Action: "api.create", TargetType: "api", TargetID: a.ID}); err != nil {
		t.Fatal(err)
	}
	two := api.Duration(2 * time.Hour)
	_, _, err := s.CreateClient(ctx, audit.System, api.CreateClientRequest{Name: "x", APIScopes: map[string][]string{a.ID: {"read"}},
		AccessTokenTTL: &two})
	if _, ok := errors.AsType[*valid.Error](err); !ok {
		t.Errorf("creating a client with access_token_ttl 2h over a 1h window: %v, want a *valid.Error", err)
	}
	setClient := func(ttl time.Duration) {
		t.Helper()
		_, err := s.db.UpdateClient(ctx, c.ID, func(c *store.Client) (store.Event, error) {
			c.AccessTokenTTL, c.APIScopes = ttl, map[string][]string{a.ID: {"read"}}
			return store.Event{Time: s.clock(), Actor: "t", Action: "client.update", TargetType: "client", TargetID: c.ID}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setClient(time.Hour)
	if _, err := s.UpdateClient(ctx, audit.System, c.ID, api.UpdateClientRequest{AccessTokenTTL: &two}); err == nil {
		t.Errorf("PATCH access_token_ttl 2h over a 1h window succeeded, want a *valid.Error")
	} else if _, ok := errors.AsType[*valid.Error](err); !ok {
		t.Errorf("PATCH access_token_ttl 2h over a 1h window: %v, want a *valid.Error", err)
	}
	// A client stored with 2 h before the window was shortened.
	setClient(2 * time.Hour)
	c, _ = s.db.ClientByID(ctx, c.ID)
	resp, err := s.Token(ctx, TokenRequest{Client: c, Form: Form{values: map[string]string{"grant_type": GrantClientCredentials}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ExpiresIn != 3600 {
		t.Errorf("expires_in = %d, want 3600", resp.ExpiresIn)
	}
	tok, err := jwt.ParseSigned(resp.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	tok.UnsafeClaimsWithoutVerification(&claims)
	if got := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); got != time.Hour {
		t.Errorf("JWT lifetime = %s, want 1h", got)
	}
}
