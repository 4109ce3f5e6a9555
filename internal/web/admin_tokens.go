package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/valid"
)

// The console page of every user's personal access tokens and OAuth
// grants (/admin/tokens): filter by user, API and state (expiring soon,
// unused for 90 days, …), cursor pages, and revoke one or many at once
// with checkboxes. Each filter is an indexed store query (migration
// 0011), so that a page of 100,000 tokens costs the same at any depth.

// adminTokenShows are the choices of the list's "Show" filter.
var adminTokenShows = []struct{ Value, Label string }{
	{"", "Every token"},
	{"active", "Active"},
	{"expiring", "Expiring within 7 days"},
	{"unused", "Unused for 90 days"},
	{"expired", "Expired"},
	{"revoked", "Revoked"},
}

// adminTokensView is the token list.
type adminTokensView struct {
	frame
	UserQuery string // the user filter as typed
	Owner     *api.User
	API       string
	Show      string
	Shows     []struct{ Value, Label string }
	APIs      []api.API
	Tokens    []adminTokenRow
	Grants    []adminGrantRow
	After     string
	Next      string
	// Here is this page's address, where a revoke returns.
	Here    string
	Notice  string
	Problem formProblem
}

// adminTokenRow is a token as the list shows it.
type adminTokenRow struct {
	api.Token
	Owner   string // the owner's username
	APIName string
	State   store.KeyState
}

// adminGrantRow is an OAuth grant of the filtered user.
type adminGrantRow struct {
	store.Grant
}

// listTokens answers GET /admin/tokens?user=&api=&show=&after=.
func (s *Site) listTokens(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	view := adminTokensView{UserQuery: strings.TrimSpace(q.Get("user")), API: q.Get("api"), Show: q.Get("show"), After: q.Get("after"),
		Notice: adminTokenNotices[q.Get("notice")]}
	view.Here = pageLink("/admin/tokens", url.Values{"user": {view.UserQuery}, "api": {view.API}, "show": {view.Show}, "after": {view.After}})
	as, err := s.keys.APIs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view.APIs = apiViews(as)
	if err := s.fillTokens(r, &view, apiNames(as)); err != nil {
		p, status, ok := s.refusal(w, r, err)
		if ok {
			view.Problem, view.Tokens, view.Next = p, nil, ""
			s.renderTokens(w, r, status, v, view)
		}
		return
	}
	s.renderTokens(w, r, http.StatusOK, v, view)
}

func (s *Site) renderTokens(w http.ResponseWriter, r *http.Request, status int, v visitor, view adminTokensView) {
	view.Shows = adminTokenShows
	view.frame = s.adminFrame(r, "Personal access tokens", tabTokens, v)
	s.render(w, r, status, pageAdminTokens, view)
}

// adminTokenNotices are the confirmations of the token page (?notice=…).
var adminTokenNotices = map[string]string{
	"revoked": "The selected tokens are revoked: they stop working on every node at their next request.",
	"grant":   "The grant is revoked with every token the application held for the user.",
}

// fillTokens reads the page's filter into a store query and fills the
// rows, the next page's link and the filtered user's grants.
func (s *Site) fillTokens(r *http.Request, view *adminTokensView, names map[string]string) error {
	now := s.keys.Now()
	f, err := apikey.PATFilter("show", view.Show, "", view.API, now)
	if err != nil {
		return err
	}
	f.After, f.Limit = view.After, consolePageSize+1
	if err := store.CheckKeyCursor(f); err != nil {
		return err
	}
	if view.UserQuery != "" {
		u, err := s.findUser(r, view.UserQuery)
		if err != nil {
			return err
		}
		view.Owner, f.UserID = &u, u.ID
		if err := s.fillGrants(r, view); err != nil {
			return err
		}
	}
	ks, err := s.keys.Keys(r.Context(), f)
	if err != nil {
		return err
	}
	ks, view.Next = onePage(ks, func(last store.Key) string {
		return pageLink("/admin/tokens", url.Values{"user": {view.UserQuery}, "api": {view.API}, "show": {view.Show},
			"after": {store.KeyCursor(f, last)}})
	})
	owners := map[string]string{}
	for _, k := range ks {
		if _, ok := owners[k.UserID]; !ok {
			owners[k.UserID] = s.username(r, k.UserID)
		}
		view.Tokens = append(view.Tokens, adminTokenRow{Token: apikey.TokenView(k, now), Owner: owners[k.UserID],
			APIName: names[k.APIID], State: keyState(k, now)})
	}
	return nil
}

// findUser is the user a filter names, by username or id.
func (s *Site) findUser(r *http.Request, typed string) (api.User, error) {
	if strings.HasPrefix(typed, "usr_") {
		if u, err := s.users.Get(r.Context(), typed); err == nil {
			return u, nil
		}
	}
	list, err := s.users.List(r.Context(), user.ListFilter{UsernamePrefix: typed, Limit: 100})
	if err != nil {
		return api.User{}, err
	}
	for _, u := range list.Users {
		if strings.EqualFold(u.Username, typed) {
			return u, nil
		}
	}
	return api.User{}, valid.Errorf("user", "no user is named %q", typed)
}

// username is the username of user id, or the id when it cannot be read.
func (s *Site) username(r *http.Request, id string) string {
	u, err := s.users.Get(r.Context(), id)
	if err != nil {
		return id
	}
	return u.Username
}

// fillGrants lists the filtered user's OAuth grants.
func (s *Site) fillGrants(r *http.Request, view *adminTokensView) error {
	if s.oauth == nil {
		return nil
	}
	gs, err := s.oauth.Grants(r.Context(), view.Owner.ID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		view.Grants = append(view.Grants, adminGrantRow{g})
	}
	return nil
}

// revokeTokens answers POST /admin/tokens/revoke: every token whose box
// is ticked (id), then back to the list the form was on. An id that is
// no personal access token, or more than a page of them, changes
// nothing.
func (s *Site) revokeTokens(w http.ResponseWriter, r *http.Request, v visitor) {
	s.revokeTicked(w, r, "id", errNoneTicked, func(ids []string) error {
		_, err := s.keys.AdminRevokePATs(r.Context(), s.actor(r, v), ids)
		return err
	}, "/admin/tokens")
}

// revokeGrant answers POST /admin/tokens/grants/revoke (user_id,
// client_id).
func (s *Site) revokeGrant(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.oauth.RevokeGrant(r.Context(), s.actor(r, v), f.Get("user_id"), f.Get("client_id")); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(backTo(f.Get("back"), "/admin/tokens"), "grant"), http.StatusSeeOther)
}

var (
	errNoneTicked = &publicError{http.StatusBadRequest, "Tick the tokens to revoke first. Nothing was changed."}
)

// backTo is the console page a form returns to: its back field when that
// is a path of the console, else def.
func backTo(back, def string) string {
	if p := localPath(back); strings.HasPrefix(p, "/admin/") {
		return p
	}
	return def
}

// withNotice adds ?notice= to a page address, replacing the one it had.
func withNotice(path, notice string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	q.Set("notice", notice)
	u.RawQuery = q.Encode()
	return u.String()
}
