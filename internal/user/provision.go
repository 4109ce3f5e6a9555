package user

import (
	"context"
	"errors"
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
	case cur.Username == e.Username && cur.Email == email && cur.DisplayName == name && slices.Equal(cur.Groups, groups):
		return cur, nil
	}
	return s.db.UpdateUser(ctx, cur.ID, func(u *store.User) (store.Event, error) {
		before := *u
		u.Username, u.Email, u.DisplayName, u.Groups, u.UpdatedAt = e.Username, email, name, groups, s.clock()
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

// endDirectorySessions ends the sessions of the local copy of username,
// if there is one from the directory.
func (s *Service) endDirectorySessions(ctx context.Context, username, why string) {
	if username == "" {
		return
	}
	u, err := s.db.UserByUsername(ctx, username)
	if err != nil || u.Source != api.UserSourceLDAP {
		return
	}
	ev, err := audit.Change(directory, s.clock(), "session.end_all", "user", u.ID, nil, map[string]any{"reason": why})
	if err != nil {
		return
	}
	if n, err := s.db.DeleteUserSessions(ctx, u.ID, "", ev); err != nil {
		s.log.ErrorContext(ctx, "end sessions of a directory user", "user", u.ID, "err", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "ended sessions of a directory user", "user", u.ID, "sessions", n, "reason", why)
	}
}

// CheckDirectory asks the directory about every enabled user tokend got
// from it, ends the sessions of those it disabled or no longer knows,
// and brings the others' profiles up to date. A directory that does not
// answer stops the round (ErrUnavailable); nothing is ended for it.
func (s *Service) CheckDirectory(ctx context.Context) error {
	if s.directory == nil {
		return nil
	}
	on := true
	f := store.UserFilter{Source: api.UserSourceLDAP, Enabled: &on, Limit: 200}
	for {
		us, err := s.db.ListUsers(ctx, f)
		if err != nil {
			return err
		}
		for _, u := range us {
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
