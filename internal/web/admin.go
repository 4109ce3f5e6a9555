package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

// The admin pages for people (/admin/users…), open to users with the
// tokend:admin role: list and search, create, show, enable and disable,
// delete, set groups, a new set-password link, end sessions, reset the
// second factors. Each change is audited with the admin as the actor.

// usersPageSize is the number of users a list page shows.
const usersPageSize = 25

// admin runs h for a signed-in administrator; anyone else signed in gets
// a 403 page.
func (s *Site) admin(h visitorHandler) http.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, v visitor) {
		if !v.user.Admin {
			s.fail(w, r, errNotAdmin)
			return
		}
		h(w, r, v)
	})
}

// adminHome answers /admin/, the admin console's address, with its
// first page, the users.
func (s *Site) adminHome(w http.ResponseWriter, r *http.Request, _ visitor) {
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

var errNotAdmin = &publicError{http.StatusForbidden, "This page is for administrators."}

// actor is who the audit log names for a change made on a page.
func (s *Site) actor(r *http.Request, v visitor) audit.Actor {
	return audit.Actor{ID: v.user.ID, IP: s.clientIP(r)}
}

// adminNotices are the confirmations a redirect after a change asks the
// next page to show (?notice=…); only these texts can appear.
var adminNotices = map[string]string{
	"created":  "The user was created.",
	"disabled": "The user is disabled and signed out everywhere.",
	"enabled":  "The user is enabled.",
	"deleted":  "The user was deleted.",
	"groups":   "The groups were saved.",
	"signout":  "Every session of the user was ended.",
	"mfa":      "The user's second factors were removed and they are signed out everywhere; they set up new ones at their next sign-in.",
}

// usersView is the list of users.
type usersView struct {
	frame
	Query  string
	Users  []api.User
	After  string // the cursor of this page, "" on the first
	Next   string // the link to the next page, "" on the last
	Notice string
}

// listUsers answers GET /admin/users?q=&after=.
func (s *Site) listUsers(w http.ResponseWriter, r *http.Request, v visitor) {
	q := r.URL.Query()
	query, after := strings.TrimSpace(q.Get("q")), q.Get("after")
	err := store.CheckIDCursor(after, store.UserIDs)
	var list api.UserList
	if err == nil {
		list, err = s.users.List(r.Context(), user.ListFilter{UsernamePrefix: query, After: after, Limit: usersPageSize})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view := usersView{frame: s.adminFrame(r, "Users", tabUsers, v), Query: query, Users: list.Users, After: after,
		Notice: adminNotices[q.Get("notice")]}
	if list.NextCursor != "" {
		view.Next = "/admin/users?" + url.Values{"q": {query}, "after": {list.NextCursor}}.Encode()
	}
	s.render(w, r, http.StatusOK, pageUsers, view)
}

// userView is one user's admin page.
type userView struct {
	frame
	Subject  api.User
	Sessions int
	Notice   string
	Error    string
	// Link is a new set-password link, shown once.
	Link *linkView
	// MFA are the user's second factors; the page offers to remove
	// them.
	MFA api.MFA
}

// linkView is a set-password link as a page shows it once.
type linkView struct {
	URL string
	api.PasswordLink
}

func (s *Site) renderUser(w http.ResponseWriter, r *http.Request, status int, v visitor, uv userView) {
	ss, err := s.users.AdminSessions(r.Context(), uv.Subject.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.users.MFA(r.Context(), uv.Subject.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	uv.frame = s.adminFrame(r, uv.Subject.Username, tabUsers, v)
	uv.Sessions = len(ss.Sessions)
	uv.MFA = m
	s.render(w, r, status, pageUser, uv)
}

// showUser answers GET /admin/users/{id}.
func (s *Site) showUser(w http.ResponseWriter, r *http.Request, v visitor) {
	u, err := s.users.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderUser(w, r, http.StatusOK, v, userView{Subject: u, Notice: adminNotices[r.URL.Query().Get("notice")]})
}

// setPasswordURL is the link a person opens to set their password: the
// token in the fragment, which browsers never send (setpassword.go).
func (s *Site) setPasswordURL(r *http.Request, token string) string {
	scheme := "http"
	if s.secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/set-password#" + token
}

// userAction is a change an admin makes on the page of one user; it
// returns the notice to show (a key of adminNotices).
type userAction func(r *http.Request, v visitor, id string, f url.Values) (notice string, err error)

// onUser answers a POST to one user's page with act, then shows that page
// again (after a redirect) with act's notice. A refused change shows the
// page with the reason.
func (s *Site) onUser(act userAction) visitorHandler {
	return func(w http.ResponseWriter, r *http.Request, v visitor) {
		f, err := readForm(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id := r.PathValue("id")
		notice, err := act(r, v, id, f)
		if err != nil {
			s.refuseOnUser(w, r, v, id, err)
			return
		}
		to := "/admin/users/" + url.PathEscape(id)
		if notice == "deleted" {
			to = "/admin/users"
		}
		http.Redirect(w, r, to+"?notice="+notice, http.StatusSeeOther)
	}
}

// refuseOnUser shows the user's page with the reason a change was
// refused, or the error page when the reason is not for people.
func (s *Site) refuseOnUser(w http.ResponseWriter, r *http.Request, v visitor, id string, err error) {
	status, msg, internal := classify(err)
	u, gerr := s.users.Get(r.Context(), id)
	if internal || gerr != nil {
		s.fail(w, r, err)
		return
	}
	s.renderUser(w, r, status, v, userView{Subject: u, Error: msg})
}

func (s *Site) disableUser(r *http.Request, v visitor, id string, _ url.Values) (string, error) {
	if id == v.user.ID {
		return "", errSelf
	}
	_, err := s.users.Disable(r.Context(), s.actor(r, v), id)
	return "disabled", err
}

func (s *Site) enableUser(r *http.Request, v visitor, id string, _ url.Values) (string, error) {
	on := true
	_, err := s.users.Update(r.Context(), s.actor(r, v), id, api.UpdateUserRequest{Enabled: &on})
	return "enabled", err
}

func (s *Site) deleteUser(r *http.Request, v visitor, id string, f url.Values) (string, error) {
	if id == v.user.ID {
		return "", errSelf
	}
	if f.Get("confirm") != "yes" {
		return "", errConfirmDelete
	}
	return "deleted", s.users.Delete(r.Context(), s.actor(r, v), id)
}

func (s *Site) setGroups(r *http.Request, v visitor, id string, f url.Values) (string, error) {
	_, err := s.users.SetGroups(r.Context(), s.actor(r, v), id, splitList(f.Get("groups")))
	return "groups", err
}

// resetMFA removes the user's second factors (a lost phone or passkey)
// and ends their sessions; the box must be ticked.
func (s *Site) resetMFA(r *http.Request, v visitor, id string, f url.Values) (string, error) {
	if f.Get("confirm") != "yes" {
		return "", errConfirmReset
	}
	return "mfa", s.users.ResetMFA(r.Context(), s.actor(r, v), id)
}

func (s *Site) endUserSessions(r *http.Request, v visitor, id string, _ url.Values) (string, error) {
	return "signout", s.users.AdminEndSessions(r.Context(), s.actor(r, v), id)
}

var (
	errSelf          = &publicError{http.StatusConflict, "You cannot disable or delete your own account here; ask another administrator."}
	errConfirmDelete = &publicError{http.StatusBadRequest, "Tick the box to confirm that the user is to be deleted."}
	errConfirmReset  = &publicError{http.StatusBadRequest, "Tick the box to confirm that the user's second factors are to be removed. Nothing was changed."}
)

// passwordLink answers POST /admin/users/{id}/password-link: a new
// one-time set-password link, shown once on the user's page (no
// redirect: the link must not live in a URL or history).
func (s *Site) passwordLink(w http.ResponseWriter, r *http.Request, v visitor) {
	if _, err := readForm(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	l, err := s.users.IssuePasswordLink(r.Context(), s.actor(r, v), id)
	if err != nil {
		s.refuseOnUser(w, r, v, id, err)
		return
	}
	u, err := s.users.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderUser(w, r, http.StatusOK, v, userView{Subject: u, Link: &linkView{URL: s.setPasswordURL(r, l.Token), PasswordLink: l}})
}

// splitList reads a list typed as commas or lines ("ops, dev").
func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
