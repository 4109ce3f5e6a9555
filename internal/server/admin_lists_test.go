package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestAdminTokenList: GET /v1/tokens lists every user's personal access
// tokens with the console's filters (user, API, expiring soon, unused
// for 90 days, state) and pages with a cursor; POST /v1/tokens/revoke
// revokes many at once, and refuses (changing nothing) an unknown id,
// an empty list, too many ids and an id twice.
func TestAdminTokenList(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	a1 := f.pat(t, f.alice.ID, api.CreateTokenRequest{Name: "a1", Scopes: []string{"read"}})
	a2 := f.pat(t, f.alice.ID, api.CreateTokenRequest{Name: "a2", Scopes: []string{"read"}, TTL: ttl(3 * 24 * time.Hour)})
	b1 := f.pat(t, f.bob.ID, api.CreateTokenRequest{Name: "b1", Scopes: []string{"read"}})
	list := func(o client.ListTokensOptions) []string {
		t.Helper()
		var out []string
		o.Limit = 1
		for range 10 {
			l, err := f.Client.ListTokens(ctx, o)
			if err != nil {
				t.Fatalf("ListTokens(%+v): %v", o, err)
			}
			for _, tk := range l.Tokens {
				out = append(out, tk.Name)
			}
			if l.NextCursor == "" {
				return out
			}
			o.Cursor = l.NextCursor
		}
		t.Fatalf("ListTokens(%+v) does not end", o)
		return nil
	}
	for _, c := range []struct {
		o    client.ListTokensOptions
		want []string
	}{
		{client.ListTokensOptions{}, []string{"a1", "a2", "b1"}},
		{client.ListTokensOptions{UserID: f.alice.ID}, []string{"a1", "a2"}},
		{client.ListTokensOptions{APIID: f.api.ID, UserID: f.bob.ID}, []string{"b1"}},
		{client.ListTokensOptions{APIID: "api_none"}, nil},
		{client.ListTokensOptions{Show: "expiring"}, []string{"a2"}},
		{client.ListTokensOptions{Show: "active"}, []string{"a1", "a2", "b1"}},
		{client.ListTokensOptions{Show: "unused"}, nil},
	} {
		got := list(c.o)
		if c.o.Show != "expiring" {
			slices.Sort(got) // in id order, random among tokens made at the same time
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ListTokens(%+v) = %v, want %v", c.o, got, c.want)
		}
	}
	l, err := f.Client.ListTokens(ctx, client.ListTokensOptions{Show: "expiring"})
	if err != nil || len(l.Tokens) != 1 || !l.Tokens[0].ExpiringSoon {
		t.Errorf("the expiring token is not flagged: %+v %v", l, err)
	}
	for _, o := range []client.ListTokensOptions{{Show: "soon"}, {Show: "unused", Cursor: "junk"}} {
		if _, err := f.Client.ListTokens(ctx, o); problemCode(err) != api.ErrInvalidField && problemCode(err) != api.ErrBadRequest {
			t.Errorf("ListTokens(%+v) = %v, want 400", o, err)
		}
	}

	before := f.state(t)
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("pat_%03d", i)
	}
	for name, c := range map[string]struct {
		ids  []string
		want string
	}{
		"an unknown id":     {[]string{a1.Token.ID, "pat_nope"}, api.ErrNotFound},
		"an API key's id":   {[]string{a1.Token.ID, f.key(t, api.CreateKeyRequest{}).Key.ID}, api.ErrNotFound},
		"none":              {[]string{}, api.ErrInvalidField},
		"more than 100":     {many, api.ErrInvalidField},
		"the same id twice": {[]string{a1.Token.ID, a1.Token.ID}, api.ErrInvalidField},
	} {
		if name == "an API key's id" {
			before = f.state(t) // the key is new
		}
		if _, err := f.Client.RevokeTokens(ctx, c.ids); problemCode(err) != c.want {
			t.Errorf("RevokeTokens(%s) = %v, want %s", name, err, c.want)
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("refused revokes changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if c := f.code(t, a1.Secret, "read"); c != api.CodeValid {
		t.Fatalf("a1 after refused revokes: %s", c)
	}
	r, err := f.Client.RevokeTokens(ctx, []string{a1.Token.ID, b1.Token.ID})
	if err != nil || r.Revoked != 2 {
		t.Fatalf("RevokeTokens = %+v, %v", r, err)
	}
	for _, s := range []string{a1.Secret, b1.Secret} {
		if c := f.code(t, s, "read"); c != api.CodeRevoked {
			t.Errorf("after the bulk revoke a token verifies as %s", c)
		}
	}
	if c := f.code(t, a2.Secret, "read"); c != api.CodeValid {
		t.Errorf("a2, not named, verifies as %s", c)
	}
	if got := list(client.ListTokensOptions{Show: "revoked"}); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"a1", "b1"}) {
		t.Errorf("revoked tokens = %v", got)
	}
	f.Clock.Advance(91 * 24 * time.Hour)
	if got := list(client.ListTokensOptions{Show: "expired"}); !slices.Equal(got, []string{"a2"}) {
		t.Errorf("expired tokens = %v", got)
	}
}

// TestAdminGrantList: GET /v1/grants lists every user's OAuth grants by
// user, client, API and last use, with a cursor; POST /v1/grants/revoke
// revokes many at once with their tokens, and refuses (changing nothing)
// a grant that does not exist and malformed lists.
func TestAdminGrantList(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	_, _, aliceRefresh, aliceClient := f.deviceTokens(t, f.alice.ID)
	_, _, bobRefresh, bobClient := f.deviceTokens(t, f.bob.ID)
	list := func(o client.ListGrantsOptions) []string {
		t.Helper()
		var out []string
		o.Limit = 1
		for range 10 {
			l, err := f.Client.ListGrants(ctx, o)
			if err != nil {
				t.Fatalf("ListGrants(%+v): %v", o, err)
			}
			for _, g := range l.Grants {
				if g.ClientName != "CLI" || !slices.Contains(g.Scopes, "read") || !slices.Contains(g.APIIDs, f.api.ID) || g.LastUsedAt == nil {
					t.Errorf("grant %+v", g)
				}
				out = append(out, g.UserID)
			}
			if l.NextCursor == "" {
				return out
			}
			o.Cursor = l.NextCursor
		}
		t.Fatalf("ListGrants(%+v) does not end", o)
		return nil
	}
	both := []string{f.alice.ID, f.bob.ID}
	slices.Sort(both)
	for _, c := range []struct {
		o    client.ListGrantsOptions
		want []string
	}{
		{client.ListGrantsOptions{}, both},
		{client.ListGrantsOptions{UserID: f.bob.ID}, []string{f.bob.ID}},
		{client.ListGrantsOptions{ClientID: aliceClient}, []string{f.alice.ID}},
		{client.ListGrantsOptions{APIID: f.api.ID}, both},
		{client.ListGrantsOptions{APIID: "api_none"}, nil},
		{client.ListGrantsOptions{Show: "unused"}, nil},
	} {
		if got := list(c.o); !slices.Equal(got, c.want) {
			t.Errorf("ListGrants(%+v) = %v, want %v", c.o, got, c.want)
		}
	}
	for _, o := range []client.ListGrantsOptions{{Show: "expiring"}, {Cursor: "junk"}} {
		if _, err := f.Client.ListGrants(ctx, o); problemCode(err) != api.ErrInvalidField && problemCode(err) != api.ErrBadRequest {
			t.Errorf("ListGrants(%+v) = %v, want 400", o, err)
		}
	}

	before := f.state(t)
	alice, bob := api.GrantRef{UserID: f.alice.ID, ClientID: aliceClient}, api.GrantRef{UserID: f.bob.ID, ClientID: bobClient}
	for name, c := range map[string]struct {
		refs []api.GrantRef
		want string
	}{
		"a grant that does not exist": {[]api.GrantRef{alice, {UserID: f.alice.ID, ClientID: bobClient}}, api.ErrNotFound},
		"none":                        {[]api.GrantRef{}, api.ErrInvalidField},
		"the same grant twice":        {[]api.GrantRef{bob, bob}, api.ErrInvalidField},
		"no client id":                {[]api.GrantRef{{UserID: f.bob.ID}}, api.ErrInvalidField},
		"more than 100":               {slices.Repeat([]api.GrantRef{alice}, 101), api.ErrInvalidField},
	} {
		if _, err := f.Client.RevokeGrants(ctx, c.refs); problemCode(err) != c.want {
			t.Errorf("RevokeGrants(%s) = %v, want %s", name, err, c.want)
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("refused revokes changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// Alice's app refreshes (after the refused revokes, and 29 days
	// on): a refresh uses the grant. Bob's app stays idle.
	aliceRefresh = f.refreshed(t, aliceClient, aliceRefresh)
	f.Clock.Advance(29 * 24 * time.Hour)
	f.refreshed(t, aliceClient, aliceRefresh)
	f.Clock.Advance(62 * 24 * time.Hour)
	if got := list(client.ListGrantsOptions{Show: "unused"}); len(got) != 1 || got[0] != f.bob.ID {
		t.Errorf("unused for 90 days = %v, want bob's (alice's app refreshed)", got)
	}
	r, err := f.Client.RevokeGrants(ctx, []api.GrantRef{bob})
	if err != nil || r.Revoked != 1 {
		t.Fatalf("RevokeGrants = %+v, %v", r, err)
	}
	if st, e := f.refreshStatus(t, bobClient, bobRefresh); st != 400 || e != "invalid_grant" {
		t.Errorf("bob's refresh after the revoke = %d %s, want invalid_grant", st, e)
	}
	if got := list(client.ListGrantsOptions{}); !slices.Equal(got, []string{f.alice.ID}) {
		t.Errorf("grants after the revoke = %v", got)
	}
}

// refreshed presents a refresh token of public client clientID and
// returns its successor.
func (f *fixture) refreshed(t *testing.T, clientID, refresh string) string {
	t.Helper()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	f.tokenForm(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}}, &tok)
	if tok.RefreshToken == "" {
		t.Fatal("the refresh gave no refresh token")
	}
	return tok.RefreshToken
}
