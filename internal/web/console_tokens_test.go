package web_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/store"
)

// newPAT creates a personal access token of owner for apiID through the
// service, with ttl (0: none), and returns its id and secret.
func newPAT(t *testing.T, s *servertest.Server, owner, apiID, name string, ttl time.Duration) (string, string) {
	t.Helper()
	req := api.CreateTokenRequest{APIID: apiID, Name: name, Scopes: []string{"read"}}
	if ttl > 0 {
		d := api.Duration(ttl)
		req.TTL = &d
	}
	k, secret, err := s.Keys.CreatePAT(t.Context(), audit.Actor{ID: owner}, owner, req)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

// patAPI creates an API whose tokens every user may hold, without expiry.
func patAPI(t *testing.T, s *servertest.Server, name, prefix string) string {
	t.Helper()
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: name, Audience: "https://" + prefix + ".example",
		KeyPrefix: prefix, Scopes: []string{"read"}, Policy: api.Policy{PATAllowNoExpiry: true,
			UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

var tokenRowRE = regexp.MustCompile(`name="id" value="(pat_[^"]+)"`)

// tokenIDs are the ids of the tokens a list page offers to revoke.
func tokenIDs(p page) []string {
	var out []string
	for _, m := range tokenRowRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestConsoleTokens: every user's tokens filtered by user, API,
// expiring soon and unused for 90 days; several revoked at once with
// the checkboxes, which verification then refuses; a user's OAuth
// grants listed and revoked.
func TestConsoleTokens(t *testing.T) {
	s, a := adminAgent(t)
	for _, n := range []string{"uma", "vic"} {
		newUser(t, s, n, alicePW, false)
	}
	uma, vic := mustUserID(t, s, "uma"), mustUserID(t, s, "vic")
	wiki, ci := patAPI(t, s, "Wiki", "wiki"), patAPI(t, s, "CI", "ci")
	soon, _ := newPAT(t, s, uma, wiki, "uma-soon", 3*24*time.Hour)
	old, _ := newPAT(t, s, uma, ci, "uma-old", 0)
	s.Clock.Advance(100 * 24 * time.Hour)
	a.signIn("root", alicePW, "/account") // the session has ended meanwhile
	vicWikiID, vicWiki := newPAT(t, s, vic, wiki, "vic-wiki", 0)
	vicCI, vicCISecret := newPAT(t, s, vic, ci, "vic-ci", 0)

	wantPage(t, "every token", a.get("/admin/tokens"), 200, "uma-soon", "uma-old", "vic-wiki", "vic-ci", ">uma<", ">vic<")
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"user=uma", []string{soon, old}},
		{"api=" + ci, []string{old, vicCI}},
		{"user=vic&api=" + ci, []string{vicCI}},
		// uma-soon expired during the 100 days; nothing expires soon.
		{"show=expiring", nil},
		{"show=expired", []string{soon}},
		// uma-old was made 100 days ago and never used.
		{"show=unused", []string{old}},
	} {
		p := a.get("/admin/tokens?" + c.query)
		if p.status != 200 {
			t.Errorf("%s = %d\n%s\n%s", c.query, p.status, p.body, s.Logs.String()[max(0, len(s.Logs.String())-600):])
			continue
		}
		got := tokenIDs(p)
		slices.Sort(got)
		slices.Sort(c.want)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s lists %v, want %v", c.query, got, c.want)
		}
	}
	expiring, _ := newPAT(t, s, vic, wiki, "vic-expiring", 2*24*time.Hour)
	if got := tokenIDs(a.get("/admin/tokens?show=expiring")); strings.Join(got, ",") != expiring {
		t.Errorf("expiring lists %v, want %s", got, expiring)
	}
	wantPage(t, "unknown user", a.get("/admin/tokens?user=nobody"), 400, "User: no user is named")
	wantPage(t, "bad cursor", a.get("/admin/tokens?show=unused&after=junk"), 400, "not one tokend made")
	for _, path := range []string{"/admin/tokens?after=junk", "/admin/users?after=junk", "/admin/keys?after=junk",
		"/admin/keys?state=expiring&after=1.junk", "/admin/clients?after=junk", "/admin/webhooks?after=junk"} {
		wantPage(t, "bad cursor", a.get(path), 400, "not one tokend made")
	}

	// Revoke two of vic's tokens at once, from the list filtered to vic.
	p := a.get("/admin/tokens?user=vic")
	ids := tokenIDs(p)
	if len(ids) != 3 {
		t.Fatalf("vic's tokens = %v", ids)
	}
	form := url.Values{"id": {vicWikiID, vicCI}, "back": {"/admin/tokens?user=vic"}}
	wantRedirect(t, "revoke two", a.post("/admin/tokens/revoke", form), "/admin/tokens?notice=revoked&user=vic")
	for _, sec := range []string{vicWiki, vicCISecret} {
		r, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: sec})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != api.CodeRevoked {
			t.Errorf("verify a revoked token = %s", r.Code)
		}
	}
	if got := tokenIDs(a.get("/admin/tokens?user=vic&show=revoked")); len(got) != 0 {
		t.Errorf("revoked tokens still offer a checkbox: %v", got)
	}
	wantPage(t, "revoked list", a.get("/admin/tokens?user=vic&show=revoked"), 200, "vic-wiki", "vic-ci")
	wantPage(t, "revoke none", a.post("/admin/tokens/revoke", url.Values{"back": {"/admin/tokens"}}), 400, "Tick the tokens")
	wantPage(t, "revoke an API key as a token", a.post("/admin/tokens/revoke", url.Values{"id": {"key_nope"}}), 404)
	p = a.post("/admin/tokens/revoke", url.Values{"id": {expiring}, "back": {"https://evil.example/"}})
	wantRedirect(t, "foreign back", p, "/admin/tokens?notice=revoked")

	// A grant of uma to a client, listed on her filter and revoked.
	c, _, err := s.OAuth.CreateClient(t.Context(), audit.Actor{ID: "test"}, api.CreateClientRequest{Name: "Reader",
		GrantTypes: []string{"authorization_code"}, APIScopes: map[string][]string{wiki: {"read"}},
		TokenEndpointAuthMethod: "none", ClientSettings: api.ClientSettings{RedirectURIs: []string{"http://127.0.0.1/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	g := store.Grant{UserID: uma, ClientID: c.ID, Scopes: []string{"read"}, APIIDs: []string{wiki}, CreatedAt: now, LastUsedAt: now}
	if err := s.DB.SaveGrant(t.Context(), g, store.Event{Time: now, Actor: uma, Action: "grant.create", TargetType: "client", TargetID: c.ID}); err != nil {
		t.Fatal(err)
	}
	wantPage(t, "uma's grants", a.get("/admin/tokens?user=uma"), 200, "Applications uma authorized", c.ID)
	wantRedirect(t, "revoke grant", a.post("/admin/tokens/grants/revoke", url.Values{"user_id": {uma}, "client_id": {c.ID},
		"back": {"/admin/tokens?user=uma"}}), "/admin/tokens?notice=grant&user=uma")
	if gs, _ := s.OAuth.Grants(t.Context(), uma); len(gs) != 0 {
		t.Errorf("grants after revoke = %v", gs)
	}
}

// TestConsoleTokenPaging: the list pages through many tokens with a
// cursor, in each order, without repeating or losing one.
func TestConsoleTokenPaging(t *testing.T) {
	s, a := adminAgent(t)
	newUser(t, s, "wes", alicePW, false)
	wes := mustUserID(t, s, "wes")
	docs := patAPI(t, s, "Docs", "docs")
	want := map[string]bool{}
	for i := range 120 {
		id, _ := newPAT(t, s, wes, docs, "t", time.Duration(1+i%3)*24*time.Hour)
		want[id] = true
	}
	for _, show := range []string{"", "expiring", "active"} {
		seen := map[string]bool{}
		next := "/admin/tokens?show=" + show
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatalf("show=%s: more than 5 pages", show)
			}
			p := a.get(next)
			for _, id := range tokenIDs(p) {
				if seen[id] {
					t.Errorf("show=%s: %s on two pages", show, id)
				}
				seen[id] = true
			}
			next = ""
			if m := regexp.MustCompile(`href="([^"]+)">Next page`).FindStringSubmatch(p.body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		if len(seen) != len(want) {
			t.Errorf("show=%s: pages list %d tokens, want %d", show, len(seen), len(want))
		}
	}
}
