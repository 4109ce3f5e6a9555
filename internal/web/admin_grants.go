package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// The console page of every user's OAuth grants (/admin/grants): the
// apps people authorized, with the filters of the token list (user,
// client, API, unused for 90 days; grants do not expire), cursor pages,
// and revoke one or many at once with checkboxes. Each filter is an
// indexed store query (migration 0019).

// adminGrantShows are the choices of the list's "Show" filter.
var adminGrantShows = []struct{ Value, Label string }{
	{"", "Every grant"},
	{"unused", "Unused for 90 days"},
}

// adminGrantsView is the grant list.
type adminGrantsView struct {
	frame
	UserQuery string // the user filter as typed
	Client    string
	API       string
	Show      string
	Shows     []struct{ Value, Label string }
	APIs      []api.API
	Owner     *api.User
	Grants    []adminGrantListRow
	After     string
	Next      string
	// Here is this page's address, where a revoke returns.
	Here    string
	Notice  string
	Problem formProblem
}

// adminGrantListRow is a grant as the list shows it.
type adminGrantListRow struct {
	api.AdminGrant
	Owner    string // the user's username
	APINames []string
	// Ref is the value of its checkbox: the user and client ids.
	Ref string
}

// listGrants answers GET /admin/grants?user=&client=&api=&show=&after=.
func (s *Site) listGrants(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	view := adminGrantsView{UserQuery: strings.TrimSpace(q.Get("user")), Client: strings.TrimSpace(q.Get("client")), API: q.Get("api"),
		Show: q.Get("show"), After: q.Get("after"), Notice: adminGrantNotices[q.Get("notice")]}
	view.Here = pageLink("/admin/grants", view.query(view.After))
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.APIs = apiViews(as)
	status := http.StatusOK
	if err := s.fillGrantList(r, &view, apiNames(as)); err != nil {
		p, st, ok := s.refusal(w, r, err)
		if !ok {
			return
		}
		view.Problem, view.Grants, view.Next, status = p, nil, "", st
	}
	view.Shows = adminGrantShows
	view.frame = s.adminFrame(r, "Authorized apps", tabGrants, v)
	s.render(w, r, status, pageAdminGrants, view)
}

// query is the list's filter with the cursor after.
func (view *adminGrantsView) query(after string) url.Values {
	return url.Values{"user": {view.UserQuery}, "client": {view.Client}, "api": {view.API}, "show": {view.Show}, "after": {after}}
}

// adminGrantNotices are the confirmations of the grant page (?notice=…).
var adminGrantNotices = map[string]string{
	"revoked": "The selected grants are revoked, with every token the apps held for those people: they stop working on every node at their next request.",
}

// fillGrantList reads the page's filter into a store query and fills the
// rows and the next page's link.
func (s *Site) fillGrantList(r *http.Request, view *adminGrantsView, names map[string]string) error {
	ctx := r.Context()
	f, err := oauth.AdminGrantFilter("show", view.Show, "", view.Client, view.API, s.keys.Now(), apikey.UnusedFor)
	if err != nil {
		return err
	}
	if view.UserQuery != "" {
		u, err := s.findUser(r, view.UserQuery)
		if err != nil {
			return err
		}
		view.Owner, f.UserID = &u, u.ID
	}
	f.After, f.Limit = view.After, consolePageSize+1
	gs, err := s.oauth.AllGrants(ctx, f)
	if err != nil {
		return err
	}
	gs, view.Next = onePage(gs, func(last store.Grant) string {
		return pageLink("/admin/grants", view.query(store.GrantCursor(f, last)))
	})
	owners, clients := map[string]string{}, map[string]string{}
	for _, g := range gs {
		if _, ok := owners[g.UserID]; !ok {
			owners[g.UserID] = s.username(r, g.UserID)
		}
		if _, ok := clients[g.ClientID]; !ok {
			clients[g.ClientID] = s.oauth.ClientName(ctx, g.ClientID)
		}
		row := adminGrantListRow{AdminGrant: oauth.AdminGrantView(g, clients[g.ClientID]), Owner: owners[g.UserID],
			Ref: g.UserID + " " + g.ClientID}
		for _, id := range g.APIIDs {
			row.APINames = append(row.APINames, cmp.Or(names[id], id))
		}
		view.Grants = append(view.Grants, row)
	}
	return nil
}

// revokeGrants answers POST /admin/grants/revoke: every grant whose box
// is ticked (grant, "user_id client_id"), then back to the list the
// form was on. A grant that does not exist changes nothing.
func (s *Site) revokeGrants(w http.ResponseWriter, r *http.Request, v visitor) {
	s.revokeTicked(w, r, "grant", errNoGrantTicked, func(ticked []string) error {
		refs := make([]api.GrantRef, 0, len(ticked))
		for _, g := range ticked {
			user, client, _ := strings.Cut(g, " ")
			refs = append(refs, api.GrantRef{UserID: user, ClientID: client})
		}
		_, err := s.oauth.RevokeGrants(r.Context(), s.actor(r, v), "grant", refs)
		return err
	}, "/admin/grants")
}

var errNoGrantTicked = &publicError{http.StatusBadRequest, "Tick the grants to revoke first. Nothing was changed."}
