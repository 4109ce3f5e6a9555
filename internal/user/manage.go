package user

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// ErrDirectoryUser refuses a change that belongs to the directory: the
// password of a user provisioned from LDAP is the directory's.
var ErrDirectoryUser = errors.New("the user comes from the directory, which owns their password")

// Create creates a local user. With req.Password, the password is checked
// and set; without, the answer carries a one-time set-password link.
func (s *Service) Create(ctx context.Context, by audit.Actor, req api.CreateUserRequest) (api.CreatedUser, error) {
	groups, err := checkProfile(req.Username, req.Email, req.DisplayName, req.Groups)
	if err != nil {
		return api.CreatedUser{}, err
	}
	now := s.clock()
	u := store.User{ID: ids.New("usr", now), Username: req.Username, Email: req.Email, DisplayName: req.DisplayName,
		Groups: groups, Admin: req.Admin, Enabled: true, Source: api.UserSourceLocal, CreatedAt: now, UpdatedAt: now}
	if req.Password != "" {
		if err := s.common.checkPassword(req.Username, req.Password); err != nil {
			return api.CreatedUser{}, err
		}
		if u.PasswordHash, err = s.hasher.hash(ctx, req.Password); err != nil {
			return api.CreatedUser{}, err
		}
		u.PasswordChangedAt = now
	}
	ev, err := userEvent(by, now, "user.create", nil, &u)
	if err != nil {
		return api.CreatedUser{}, err
	}
	if err := s.db.CreateUser(ctx, u, ev); err != nil {
		return api.CreatedUser{}, err
	}
	out := api.CreatedUser{User: view(u)}
	if req.Password == "" {
		link, err := s.IssuePasswordLink(ctx, by, u.ID)
		if err != nil {
			return api.CreatedUser{}, err
		}
		out.PasswordLink = &link
	}
	return out, nil
}

// Update applies req to the user with the given id. Disabling a user
// voids their set-password link. An update that changes nothing writes
// no event and keeps updated_at.
func (s *Service) Update(ctx context.Context, by audit.Actor, id string, req api.UpdateUserRequest) (api.User, error) {
	u, err := s.db.UpdateUser(ctx, id, func(u *store.User) (store.Event, error) {
		before := *u
		patch(u, req)
		groups, err := checkProfile(u.Username, u.Email, u.DisplayName, u.Groups)
		if err != nil {
			return store.Event{}, err
		}
		if u.Source != api.UserSourceLocal && (req.Username != nil && *req.Username != before.Username) {
			return store.Event{}, valid.Errorf("username", "cannot change for a user from the directory")
		}
		if u.Groups = groups; audit.Same(before, *u) {
			return store.Event{}, errUnchanged // no event, no new updated_at
		}
		u.UpdatedAt = s.clock()
		return userEvent(by, u.UpdatedAt, "user.update", &before, u)
	})
	if errors.Is(err, errUnchanged) {
		u, err = s.db.UserByID(ctx, id)
	}
	if err != nil {
		return api.User{}, err
	}
	return view(u), nil
}

// errUnchanged rolls back an update that has nothing to do.
var errUnchanged = errors.New("unchanged")

func patch(u *store.User, req api.UpdateUserRequest) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Username, req.Username)
	set(&u.Email, req.Email)
	set(&u.DisplayName, req.DisplayName)
	if req.Groups != nil {
		u.Groups = *req.Groups
	}
	if req.Admin != nil {
		u.Admin = *req.Admin
	}
	if req.Enabled != nil {
		// An admin's decision replaces the directory's.
		u.Enabled, u.DirectoryDisabled = *req.Enabled, false
	}
}

// Disable stops the user from signing in.
func (s *Service) Disable(ctx context.Context, by audit.Actor, id string) (api.User, error) {
	off := false
	return s.Update(ctx, by, id, api.UpdateUserRequest{Enabled: &off})
}

// SetGroups replaces the user's groups.
func (s *Service) SetGroups(ctx context.Context, by audit.Actor, id string, groups []string) (api.User, error) {
	return s.Update(ctx, by, id, api.UpdateUserRequest{Groups: &groups})
}

// Delete deletes the user.
func (s *Service) Delete(ctx context.Context, by audit.Actor, id string) error {
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return err
	}
	ev, err := userEvent(by, s.clock(), "user.delete", &u, nil)
	if err != nil {
		return err
	}
	return s.db.DeleteUser(ctx, id, ev)
}

// checkProfile checks a user's username, email, display name and groups,
// and returns the groups sorted, without duplicates.
func checkProfile(username, email, displayName string, groups []string) ([]string, error) {
	if err := checkUsername(username); err != nil {
		return nil, err
	}
	if err := valid.Text("email", email, 0, 254); err != nil {
		return nil, err
	}
	if email != "" && (!strings.Contains(email, "@") || strings.ContainsAny(email, " <>")) {
		return nil, valid.Errorf("email", "must be a mail address")
	}
	if err := valid.Text("display_name", displayName, 0, 200); err != nil {
		return nil, err
	}
	if len(groups) > 100 {
		return nil, valid.Errorf("groups", "must be at most 100")
	}
	for _, g := range groups {
		if err := valid.Text("groups", g, 1, 128); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(groups)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkUsername allows 1 to 64 letters, digits and ".", "_", "-", "@",
// starting with a letter or digit: what a person types, an LDAP uid or an
// Active Directory userPrincipalName.
func checkUsername(username string) error {
	if err := valid.Text("username", username, 1, 64); err != nil {
		return err
	}
	for i, r := range username {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r)
		if !ok && (i == 0 || !strings.ContainsRune("._-@", r)) {
			return valid.Errorf("username", "must be letters, digits, '.', '_', '-' and '@', starting with a letter or digit")
		}
	}
	return nil
}
