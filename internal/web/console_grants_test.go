package web_test

import (
	"fmt"
	"html"
	"net/http"
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

// newGrant makes a client named name for apiID and stores userID's grant
// to it, used at the clock's now; it returns the client id.
func newGrant(t *testing.T, s *servertest.Server, userID, apiID, name string) string {
	t.Helper()
	c, _, err := s.OAuth.CreateClient(t.Context(), audit.Actor{ID: "test"}, api.CreateClientRequest{Name: name,
		GrantTypes: []string{"authorization_code"}, APIScopes: map[string][]string{apiID: {"read"}},
		TokenEndpointAuthMethod: "none", ClientSettings: api.ClientSettings{RedirectURIs: []string{"http://127.0.0.1/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	g := store.Grant{UserID: userID, ClientID: c.ID, Scopes: []string{"openid", "read"}, APIIDs: []string{apiID}, CreatedAt: now, LastUsedAt: now}
	if err := s.DB.SaveGrant(t.Context(), g, store.Event{Time: now, Actor: userID, Action: "grant.create", TargetType: "client", TargetID: c.ID}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

var grantRowRE = regexp.MustCompile(`name="grant" value="([^"]+)"`)

// grantRefs are the grants ("user_id client_id") a list page offers to
// revoke.
func grantRefs(p page) []string {
	var out []string
	for _, m := range grantRowRE.FindAllStringSubmatch(p.body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// TestConsoleGrants: every user's OAuth grants on /admin/grants,
// filtered by user, app, API and unused for 90 days, paged with a
// cursor; several revoked at once with the checkboxes, with the tokens
// of their apps; a grant that does not exist, none ticked, too many and
// a cross-site post refused, changing nothing.
func TestConsoleGrants(t *testing.T) {
	s, a := adminAgent(t)
	for _, n := range []string{"uma", "vic"} {
		newUser(t, s, n, alicePW, false)
	}
	uma, vic := mustUserID(t, s, "uma"), mustUserID(t, s, "vic")
	wiki, ci := patAPI(t, s, "Wiki", "wiki"), patAPI(t, s, "CI", "ci")
	umaWiki := newGrant(t, s, uma, wiki, "Wiki reader")
	s.Clock.Advance(100 * 24 * time.Hour)
	a.signIn("root", alicePW, "/account") // the session has ended meanwhile
	vicCI := newGrant(t, s, vic, ci, "CI bot")
	vicWiki := newGrant(t, s, vic, wiki, "Wiki editor")

	wantPage(t, "every grant", a.get("/admin/grants"), 200, "Authorized apps", "Wiki reader", "CI bot", ">uma<", ">vic<", "openid")
	ref := func(user, client string) string { return user + " " + client }
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{ref(uma, umaWiki), ref(vic, vicCI), ref(vic, vicWiki)}},
		{"user=vic", []string{ref(vic, vicCI), ref(vic, vicWiki)}},
		{"client=" + url.QueryEscape(vicCI), []string{ref(vic, vicCI)}},
		{"api=" + wiki, []string{ref(uma, umaWiki), ref(vic, vicWiki)}},
		{"user=vic&api=" + wiki, []string{ref(vic, vicWiki)}},
		{"show=unused", []string{ref(uma, umaWiki)}},
	} {
		p := a.get("/admin/grants?" + c.query)
		if p.status != 200 {
			t.Errorf("%s = %d\n%s", c.query, p.status, p.body)
			continue
		}
		got := grantRefs(p)
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v", c.query, got, c.want)
		}
	}
	wantPage(t, "unknown user", a.get("/admin/grants?user=nobody"), 400, "User: no user is named")
	wantPage(t, "unknown show", a.get("/admin/grants?show=expiring"), 400, "Show:")
	wantPage(t, "bad cursor", a.get("/admin/grants?after=junk"), 400, "not one tokend made")

	// Refused revokes change nothing.
	before := len(grantRefs(a.get("/admin/grants")))
	wantPage(t, "revoke none", a.post("/admin/grants/revoke", url.Values{"back": {"/admin/grants"}}), 400, "Tick the grants")
	wantPage(t, "revoke one that does not exist", a.post("/admin/grants/revoke",
		url.Values{"grant": {ref(vic, vicCI), ref(uma, vicCI)}}), 404)
	wantPage(t, "revoke without a client", a.post("/admin/grants/revoke", url.Values{"grant": {uma}}), 400)
	wantPage(t, "revoke too many", a.post("/admin/grants/revoke", url.Values{"grant": slices.Repeat([]string{ref(vic, vicCI)}, 101)}), 400)
	cross := a.send(http.MethodPost, "/admin/grants/revoke", strings.NewReader(url.Values{"grant": {ref(vic, vicCI)}}.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	if cross.status != http.StatusForbidden {
		t.Errorf("cross-site revoke = %d, want 403", cross.status)
	}
	if after := len(grantRefs(a.get("/admin/grants"))); after != before {
		t.Fatalf("refused revokes left %d grants of %d", after, before)
	}

	// Revoke two of vic's grants at once, from the list filtered to vic.
	form := url.Values{"grant": {ref(vic, vicCI), ref(vic, vicWiki)}, "back": {"/admin/grants?user=vic"}}
	wantRedirect(t, "revoke two", a.post("/admin/grants/revoke", form), "/admin/grants?notice=revoked&user=vic")
	wantPage(t, "after", a.get("/admin/grants?notice=revoked&user=vic"), 200, "The selected grants are revoked", "matches the filter")
	if gs, _ := s.OAuth.Grants(t.Context(), vic); len(gs) != 0 {
		t.Errorf("vic's grants after the revoke = %v", gs)
	}
	if got := grantRefs(a.get("/admin/grants")); !slices.Equal(got, []string{ref(uma, umaWiki)}) {
		t.Errorf("grants after the revoke = %v", got)
	}
}

// TestConsoleGrantPaging: the grant list pages through many grants with
// a cursor, in each order, without repeating or losing one.
func TestConsoleGrantPaging(t *testing.T) {
	s, a := adminAgent(t)
	newUser(t, s, "wes", alicePW, false)
	wes := mustUserID(t, s, "wes")
	docs := patAPI(t, s, "Docs", "docs")
	for i := range 60 {
		newGrant(t, s, wes, docs, fmt.Sprintf("app %02d", i))
		if i%20 == 0 {
			s.Clock.Advance(time.Second) // ties of last use, and not
		}
	}
	s.Clock.Advance(91 * 24 * time.Hour)
	a.signIn("root", alicePW, "/account")
	for _, q := range []string{"", "show=unused", "user=wes", "api=" + docs} {
		seen := map[string]bool{}
		next := "/admin/grants?" + q
		pages := 0
		for ; next != ""; pages++ {
			if pages > 3 {
				t.Fatalf("%s: more than 3 pages", q)
			}
			p := a.get(next)
			for _, r := range grantRefs(p) {
				if seen[r] {
					t.Errorf("%s: %s on two pages", q, r)
				}
				seen[r] = true
			}
			next = ""
			if m := regexp.MustCompile(`href="([^"]+)">Next page`).FindStringSubmatch(p.body); m != nil {
				next = html.UnescapeString(m[1])
			}
		}
		if len(seen) != 60 || pages != 2 {
			t.Errorf("%s: %d pages list %d grants, want 2 pages of 60", q, pages, len(seen))
		}
	}
}
