package user

import (
	"context"
	"errors"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// ErrInvalidLink means a set-password token is malformed, unknown,
// already used, expired or voided by a later link, a password change or
// a disable: which of these is not said.
var ErrInvalidLink = errors.New("the set-password link is invalid, used or expired; ask an admin for a new one")

// IssuePasswordLink makes a one-time set-password link for the local user
// with the given id, voiding any earlier one. The token is returned once;
// the store keeps its SHA-256.
func (s *Service) IssuePasswordLink(ctx context.Context, by audit.Actor, id string) (api.PasswordLink, error) {
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return api.PasswordLink{}, err
	}
	if u.Source != api.UserSourceLocal {
		return api.PasswordLink{}, ErrDirectoryUser
	}
	now := s.clock()
	token := credential.Generate(credential.SetPasswordPrefix)
	l := store.PasswordLink{Hash: credential.Hash(token), UserID: id, CreatedAt: now, ExpiresAt: now.Add(s.linkTTL)}
	ev, err := audit.Change(by, now, "user.password_link", "user", id, nil, map[string]any{"expires_at": l.ExpiresAt})
	if err != nil {
		return api.PasswordLink{}, err
	}
	if err := s.db.CreatePasswordLink(ctx, l, ev); err != nil {
		return api.PasswordLink{}, err
	}
	return api.PasswordLink{Token: token, ExpiresAt: l.ExpiresAt}, nil
}

// SetPasswordWithLink sets the password of the user whose set-password
// link token is, consuming the link. The password is checked first; a
// refused password leaves the link usable. It returns ErrInvalidLink for
// a link that does not work, and refuses a disabled user the same way.
func (s *Service) SetPasswordWithLink(ctx context.Context, by audit.Actor, token, password string) (api.User, error) {
	if prefix, ok := credential.Parse(token); !ok || prefix != credential.SetPasswordPrefix {
		return api.User{}, ErrInvalidLink
	}
	if err := s.common.checkPassword("", password); err != nil {
		return api.User{}, err
	}
	// A link that does not work costs a lookup, never an argon2id hash:
	// anyone can send well-formed tokens.
	if _, err := s.db.PasswordLinkUser(ctx, credential.Hash(token), s.clock()); errors.Is(err, store.ErrNotFound) {
		return api.User{}, ErrInvalidLink
	} else if err != nil {
		return api.User{}, err
	}
	// Hashed before the transaction, so that no write waits on argon2id.
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return api.User{}, err
	}
	u, err := s.db.UsePasswordLink(ctx, credential.Hash(token), s.clock(), func(u *store.User) (store.Event, error) {
		if !u.Enabled {
			return store.Event{}, ErrInvalidLink
		}
		if err := checkNotUsername(u.Username, password); err != nil {
			return store.Event{}, err
		}
		before, now := *u, s.clock()
		u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = h, now, now
		return userEvent(by, now, "user.set_password", &before, u)
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.User{}, ErrInvalidLink
	}
	if err != nil {
		return api.User{}, err
	}
	return view(u), nil
}

// CheckPassword checks a local user's username and password and returns
// the user. Unknown users, users without a password, directory users and
// wrong passwords all return ErrInvalidCredentials after the same
// argon2id work, so that neither the answer nor its time tells whether
// the user exists; a disabled user with the right password gets
// ErrDisabled. A password hashed with weaker parameters than the
// current ones is rehashed.
func (s *Service) CheckPassword(ctx context.Context, username, password string) (api.User, error) {
	u, err := s.db.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return api.User{}, err
	}
	hash := u.PasswordHash
	if u.Source != api.UserSourceLocal || len(password) > MaxPasswordLength {
		hash = "" // checked against the dummy hash: never matches
	}
	ok, rehash, err := s.hasher.check(ctx, hash, password)
	if err != nil {
		return api.User{}, err
	}
	if !ok {
		return api.User{}, ErrInvalidCredentials
	}
	if !u.Enabled {
		return api.User{}, ErrDisabled
	}
	if rehash {
		return s.rehash(ctx, u, password)
	}
	return view(u), nil
}

// rehash stores password hashed with the current parameters, unless the
// hash changed since it was read (a concurrent password change wins).
func (s *Service) rehash(ctx context.Context, u store.User, password string) (api.User, error) {
	old := u.PasswordHash
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return api.User{}, err
	}
	nu, err := s.db.UpdateUser(ctx, u.ID, func(cur *store.User) (store.Event, error) {
		if cur.PasswordHash != old {
			return store.Event{}, errStale
		}
		before := *cur
		cur.PasswordHash = h
		return userEvent(audit.System, s.clock(), "user.password_rehash", &before, cur)
	})
	if errors.Is(err, errStale) {
		return view(u), nil
	}
	if err != nil {
		return api.User{}, err
	}
	return view(nu), nil
}

var errStale = errors.New("password changed concurrently")
