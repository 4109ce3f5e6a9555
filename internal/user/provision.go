package user

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/store"
)

// DefaultDirectoryCheck is how often the directory is asked about the
// people tokend got from it, so that the sessions of those disabled or
// removed there end.
const DefaultDirectoryCheck = 5 * time.Minute

// directory is the actor of changes the directory makes.
var directory = audit.Actor{ID: "directory"}

// directorySignIn authenticates username with the directory and returns
// the local copy of the person, made or brought up to date. A person the
// directory disabled gets ErrDisabled, and their sessions end; a person
// disabled in tokend gets ErrDisabled too.
func (s *Service) directorySignIn(ctx context.Context, username, password string) (store.User, error) {
	e, err := s.directory.Authenticate(ctx, username, password)
	switch {
	case errors.Is(err, ErrDisabled):
		s.endDirectorySessions(ctx, e.Username, "disabled in the directory")
		return store.User{}, ErrDisabled
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrUnavailable):
		return store.User{}, err
	case err != nil:
		return store.User{}, errors.Join(ErrUnavailable, err)
	}
	u, err := s.provision(ctx, e)
	if err != nil {
		return store.User{}, err
	}
	if !u.Enabled {
		return store.User{}, ErrDisabled
	}
	return u, nil
}

// provision makes or updates the local copy of the directory's person
// e. The directory owns the username, email, display name and groups;
// tokend owns the id, the admin role and whether the user is enabled
// here. A local user of the same name that did not come from the
// directory is never taken over: it is ErrInvalidCredentials, as if the
// directory had said no.
func (s *Service) provision(ctx context.Context, e Entry) (store.User, error) {
	groups, email, name, err := entryProfile(e)
	if err != nil {
		s.log.WarnContext(ctx, "directory entry refused", "err", err)
		return store.User{}, ErrInvalidCredentials
	}
	cur, err := s.db.UserByUsername(ctx, e.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.createFromDirectory(ctx, e.Username, email, name, groups)
	case err != nil:
		return store.User{}, err
	case cur.Source != api.UserSourceLDAP:
		s.log.WarnContext(ctx, "directory user shadowed by a local user", "user", cur.ID)
		return store.User{}, ErrInvalidCredentials
	case cur.Username == e.Username && cur.Email == email && cur.DisplayName == name && slices.Equal(cur.Groups, groups) &&
		!cur.DirectoryDisabled:
		return cur, nil
	}
	return s.db.UpdateUser(ctx, cur.ID, func(u *store.User) (store.Event, error) {
		before := *u
		u.Username, u.Email, u.DisplayName, u.Groups, u.UpdatedAt = e.Username, email, name, groups, s.clock()
		if u.DirectoryDisabled { // the directory enabled them again
			u.Enabled, u.DirectoryDisabled = true, false
		}
		return userEvent(directory, u.UpdatedAt, "user.directory_update", &before, u)
	})
}

func (s *Service) createFromDirectory(ctx context.Context, username, email, name string, groups []string) (store.User, error) {
	now := s.clock()
	u := store.User{ID: ids.New("usr", now), Username: username, Email: email, DisplayName: name, Groups: groups,
		Enabled: true, Source: api.UserSourceLDAP, CreatedAt: now, UpdatedAt: now}
	ev, err := userEvent(directory, now, "user.directory_create", nil, &u)
	if err != nil {
		return store.User{}, err
	}
	if err := s.db.CreateUser(ctx, u, ev); err != nil {
		if errors.Is(err, store.ErrConflict) { // a concurrent first sign-in made it
			return s.db.UserByUsername(ctx, username)
		}
		return store.User{}, err
	}
	return u, nil
}

// entryProfile checks what a directory says of a person, as tokend's own
// rules would a profile typed by an admin; an email or name tokend
// cannot keep is dropped rather than refusing the person.
func entryProfile(e Entry) (groups []string, email, name string, err error) {
	email, name = e.Email, e.DisplayName
	if _, err := checkProfile(e.Username, email, "", nil); err != nil {
		email = ""
	}
	if _, err := checkProfile(e.Username, "", name, nil); err != nil {
		name = ""
	}
	groups, err = checkProfile(e.Username, email, name, e.Groups)
	return groups, email, name, err
}

// endDirectorySessions disables, for the directory, the local copy of
// username, if there is one from the directory and it is enabled: that
// ends their sessions and stops their personal access tokens and apps at
// once, on every node. It is marked DirectoryDisabled, so that the
// directory check (or a sign-in the directory accepts) enables them
// again once the directory does.
func (s *Service) endDirectorySessions(ctx context.Context, username, why string) {
	if username == "" {
		return
	}
	u, err := s.db.UserByUsername(ctx, username)
	if err != nil || u.Source != api.UserSourceLDAP || !u.Enabled {
		return
	}
	_, err = s.db.UpdateUser(ctx, u.ID, func(u *store.User) (store.Event, error) {
		before := *u
		u.Enabled, u.DirectoryDisabled, u.UpdatedAt = false, true, s.clock()
		ev, err := userEvent(directory, u.UpdatedAt, "user.directory_disable", &before, u)
		if err == nil {
			ev.After = fmt.Appendf(ev.After[:len(ev.After)-1], `,"reason":%q}`, why)
		}
		return ev, err
	})
	if err != nil {
		s.log.ErrorContext(ctx, "disable a directory user", "user", u.ID, "err", err)
		return
	}
	s.log.InfoContext(ctx, "disabled a directory user", "user", u.ID, "reason", why)
}

// CheckDirectory asks the directory about every user tokend got from it
// that is enabled, or that the directory disabled: it disables those the
// directory disabled or no longer knows (endDirectorySessions), brings
// the others' profiles up to date, and enables again those it had
// disabled for the directory and the directory enabled since. A
// directory that does not answer stops the round (ErrUnavailable);
// nothing changes for it.
func (s *Service) CheckDirectory(ctx context.Context) error {
	if s.directory == nil {
		return nil
	}
	for _, on := range []bool{true, false} {
		if err := s.checkDirectoryUsers(ctx, on); err != nil {
			return err
		}
	}
	return nil
}

// checkDirectoryUsers checks the users from the directory that are
// enabled (on) or that the directory disabled.
func (s *Service) checkDirectoryUsers(ctx context.Context, on bool) error {
	f := store.UserFilter{Source: api.UserSourceLDAP, Enabled: &on, Limit: 200}
	for {
		us, err := s.db.ListUsers(ctx, f)
		if err != nil {
			return err
		}
		for _, u := range us {
			if !on && !u.DirectoryDisabled {
				continue // an admin disabled them: the directory cannot enable them
			}
			if err := s.checkDirectoryUser(ctx, u); err != nil {
				return err
			}
		}
		if len(us) < f.Limit {
			return nil
		}
		f.After = us[len(us)-1].ID
	}
}

func (s *Service) checkDirectoryUser(ctx context.Context, u store.User) error {
	e, err := s.directory.Lookup(ctx, u.Username)
	switch {
	case errors.Is(err, ErrNotFound):
		s.endDirectorySessions(ctx, u.Username, "not in the directory")
		return nil
	case err != nil:
		return errors.Join(ErrUnavailable, err)
	case e.Disabled:
		s.endDirectorySessions(ctx, u.Username, "disabled in the directory")
		return nil
	}
	_, err = s.provision(ctx, e)
	if errors.Is(err, ErrInvalidCredentials) {
		return nil // logged by provision
	}
	return err
}
