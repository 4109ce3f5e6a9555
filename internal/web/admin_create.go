package web

import (
	"net/http"
	"net/url"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/valid"
)

// newUserView is the form that creates a user.
type newUserView struct {
	frame
	Form  api.CreateUserRequest
	Group string // the groups as typed
	// WithPassword: the admin sets an initial password rather than
	// handing out a set-password link.
	WithPassword bool
	Error        string
}

func (s *Site) renderNewUser(w http.ResponseWriter, r *http.Request, status int, v visitor, nv newUserView) {
	nv.frame = s.adminFrame(r, "New user", tabUsers, v)
	s.render(w, r, status, pageNewUser, nv)
}

// newUserForm answers GET /admin/users/new.
func (s *Site) newUserForm(w http.ResponseWriter, r *http.Request, v visitor) {
	s.renderNewUser(w, r, http.StatusOK, v, newUserView{})
}

// createUser answers POST /admin/users: username, display_name, email,
// groups, admin, and either password (with initial=password) or a
// one-time set-password link (initial=link), shown once.
func (s *Site) createUser(w http.ResponseWriter, r *http.Request, v visitor) {
	f, err := readForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, nv := newUserRequest(f)
	var created api.CreatedUser
	if nv.WithPassword && req.Password == "" {
		err = valid.Errorf("password", "is required to set an initial password; or choose a set-password link")
	} else {
		created, err = s.users.Create(r.Context(), s.actor(r, v), req)
	}
	if err != nil {
		status, msg, internal := classify(err)
		if internal {
			s.fail(w, r, err)
			return
		}
		nv.Error = msg
		s.renderNewUser(w, r, status, v, nv)
		return
	}
	if created.PasswordLink == nil {
		http.Redirect(w, r, "/admin/users/"+url.PathEscape(created.ID)+"?notice=created", http.StatusSeeOther)
		return
	}
	link := &linkView{URL: s.setPasswordURL(r, created.PasswordLink.Token), PasswordLink: *created.PasswordLink}
	s.renderUser(w, r, http.StatusCreated, v, userView{Subject: created.User, Notice: adminNotices["created"], Link: link})
}

// newUserRequest reads the form of the new-user page; the view echoes
// it back on a refusal, without the password.
func newUserRequest(f url.Values) (api.CreateUserRequest, newUserView) {
	req := api.CreateUserRequest{Username: f.Get("username"), DisplayName: f.Get("display_name"), Email: f.Get("email"),
		Groups: splitList(f.Get("groups")), Admin: f.Get("admin") == "yes"}
	withPassword := f.Get("initial") == "password"
	if withPassword {
		req.Password = f.Get("password")
	}
	echo := req
	echo.Password = ""
	return req, newUserView{Form: echo, Group: f.Get("groups"), WithPassword: withPassword}
}
