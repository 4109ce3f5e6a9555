package user

import (
	"context"
	"errors"
)

// A Directory is an external source of people, such as LDAP or Active
// Directory, that tokend consults at sign-in and periodically afterwards.
// tokend keeps a local copy of each person it has seen (see Entry) and
// refreshes it from the directory; the directory stays the authority on
// passwords, groups and whether the person may sign in.
//
// Implementations must be safe for concurrent use and must honour the
// context's deadline: a directory that does not answer in time is
// ErrUnavailable, never a hang.
type Directory interface {
	// Authenticate checks username and password against the directory
	// and returns the directory's view of the person.
	//
	// A wrong password, an unknown username, a username that is not a
	// valid name for the directory (including one carrying filter
	// metacharacters) and an empty password all return
	// ErrInvalidCredentials, indistinguishably, so that a caller
	// cannot learn whether a person exists. A person the directory
	// knows but has disabled returns their Entry with Disabled set and
	// ErrDisabled, only after the password was checked. A directory
	// that cannot be reached or fails returns an error wrapping
	// ErrUnavailable.
	Authenticate(ctx context.Context, username, password string) (Entry, error)

	// Lookup returns the directory's current view of username without
	// a password, for the periodic check that ends the sessions of
	// people disabled or removed in the directory. A person the
	// directory does not know returns ErrNotFound; a directory that
	// cannot be reached returns an error wrapping ErrUnavailable. A
	// disabled person is returned with Disabled set and a nil error.
	Lookup(ctx context.Context, username string) (Entry, error)
}

// An Entry is a directory's view of one person. tokend copies it into the
// local user at each sign-in and check.
type Entry struct {
	// Username is the name the person signs in with, as the directory
	// spells it; tokend compares usernames case-insensitively.
	Username string
	// Email is the person's mail address, empty if the directory has
	// none.
	Email string
	// DisplayName is the person's full name, empty if the directory
	// has none.
	DisplayName string
	// Groups are the names (not distinguished names) of the groups the
	// person belongs to, as tokend will show and match them.
	Groups []string
	// Disabled is set when the directory forbids the person to sign
	// in (for Active Directory, the ACCOUNTDISABLE bit of
	// userAccountControl).
	Disabled bool
}

// The errors a Directory returns. Callers test them with errors.Is;
// implementations may wrap them with detail for the log, but the detail
// must never contain a password.
var (
	// ErrInvalidCredentials means the username and password do not
	// identify an enabled person. It never says which of the two was
	// wrong, nor whether the person exists.
	ErrInvalidCredentials = errors.New("user: invalid username or password")
	// ErrDisabled means the credentials were right but the person may
	// not sign in.
	ErrDisabled = errors.New("user: account disabled")
	// ErrNotFound means the person does not exist (Lookup only).
	ErrNotFound = errors.New("user: not found")
	// ErrUnavailable means the directory could not be reached or did
	// not answer; local users are unaffected.
	ErrUnavailable = errors.New("user: directory unavailable")
)
