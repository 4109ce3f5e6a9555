package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// User is one person (package user). Username is unique regardless of
// case. PasswordHash is the encoded argon2id hash, empty while the user
// has no password; it is a hash, never a password.
type User struct {
	ID          string
	Username    string
	Email       string
	DisplayName string
	Groups      []string
	Admin       bool
	Enabled     bool
	// DirectoryDisabled says the directory disabled or dropped the person
	// (Enabled is then false): the directory check enables them again
	// once the directory does. An admin's enable or disable clears it.
	DirectoryDisabled bool
	Source            string
	PasswordHash      string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// UserFilter selects users for ListUsers. Zero fields select everything.
type UserFilter struct {
	// UsernamePrefix keeps users whose username starts with it,
	// regardless of case.
	UsernamePrefix string
	// Group keeps the members of this group.
	Group string
	// Enabled, if set, keeps users whose Enabled equals it.
	Enabled *bool
	// Source keeps users from this source ("local", "ldap").
	Source string
	// After is the id the page starts after; Limit (at least 1) bounds it.
	After string
	Limit int
}

// PasswordLink is a one-time set-password link, stored by the SHA-256 of
// its token.
type PasswordLink struct {
	Hash      [32]byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

const userCols = `u.id, u.username, u.email, u.display_name, u.groups, u.admin, u.enabled, u.source,
	u.password_hash, u.password_changed_at, u.created_at, u.updated_at, u.directory_disabled`

func scanUser(s scanner) (User, error) {
	var u User
	var groups string
	var hash sql.NullString
	var changed, created, updated sql.NullInt64
	err := s.Scan(&u.ID, &u.Username, &u.Email, &u.DisplayName, &groups, &u.Admin, &u.Enabled, &u.Source,
		&hash, &changed, &created, &updated, &u.DirectoryDisabled)
	if err != nil {
		return User{}, notFound(err)
	}
	if u.Groups, err = decodeStrings(groups); err != nil {
		return User{}, fmt.Errorf("user %s groups: %w", u.ID, err)
	}
	u.PasswordHash = hash.String
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromMicros(changed), fromMicros(created), fromMicros(updated)
	return u, nil
}

// userArgs returns u's columns in the order of insertUser.
func userArgs(u User) ([]any, error) {
	groups, err := encodeJSON(u.Groups)
	if err != nil {
		return nil, err
	}
	if u.Groups == nil {
		groups = "[]"
	}
	created, err := mustTime("created time", u.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := mustTime("updated time", u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	hash := sql.NullString{String: u.PasswordHash, Valid: u.PasswordHash != ""}
	return []any{u.ID, u.Username, usernameKey(u.Username), u.Email, u.DisplayName, groups, u.Admin, u.Enabled,
		u.Source, hash, micros(u.PasswordChangedAt), created, updated, u.DirectoryDisabled}, nil
}

// usernameKey is the form in which usernames are unique.
func usernameKey(username string) string { return strings.ToLower(username) }

// CreateUser inserts u and writes ev. It returns ErrConflict if u's id or
// username (in any case) is taken.
func (db *DB) CreateUser(ctx context.Context, u User, ev Event) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	err = db.change(ctx, func(tx *sql.Tx, _ *Change) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, username, username_key, email, display_name,
			groups, admin, enabled, source, password_hash, password_changed_at, created_at, updated_at, directory_disabled)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
		if err != nil {
			return conflict(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// UserByID returns the user with the given id, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByUsername returns the user with the given username in any case,
// or ErrNotFound.
func (db *DB) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.username_key = $1`,
		usernameKey(username)))
	if err != nil {
		return User{}, fmt.Errorf("user by username: %w", err)
	}
	return u, nil
}

// ListUsers returns up to f.Limit users in id order, starting after
// f.After, that match f.
func (db *DB) ListUsers(ctx context.Context, f UserFilter) ([]User, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("list users: limit %d is less than 1", f.Limit)
	}
	var w filter
	if f.UsernamePrefix != "" {
		w.add(`u.username_key LIKE $? ESCAPE '\'`, likePrefix(usernameKey(f.UsernamePrefix)))
	}
	if f.Group != "" {
		w.add(db.d.userInGroup, f.Group)
	}
	if f.Enabled != nil {
		w.add(`u.enabled = $?`, *f.Enabled)
	}
	if f.Source != "" {
		w.add(`u.source = $?`, f.Source)
	}
	if f.After != "" {
		w.add(`u.id > $?`, f.After)
	}
	q, args := w.page(`SELECT `+userCols+` FROM users u`, `u.id`, f.Limit)
	return db.queryUsers(ctx, q, args)
}

// likePrefix escapes s for LIKE ... ESCAPE '\' and appends the wildcard.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func (db *DB) queryUsers(ctx context.Context, q string, args []any) ([]User, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UpdateUser loads the user with the given id, lets update change it,
// saves it and writes the event update returns, all in one transaction.
// If update returns an error, nothing is written and that error is
// returned unchanged. ID and CreatedAt cannot be changed. A change of
// password hash or a disable removes the user's set-password links; a
// disable, or a new PasswordChangedAt (a password change, not a rehash),
// ends every session of the user. The user is announced, with the
// secrets of their personal access tokens and ended sessions. It returns
// ErrNotFound, or ErrConflict if the new username is taken.
func (db *DB) UpdateUser(ctx context.Context, id string, update func(*User) (Event, error)) (User, error) {
	return db.UpdateUserKeeping(ctx, id, "", update)
}

// UpdateUserKeeping is UpdateUser, except that a password change keeps
// the session with id keepSession (the one the user changed it from). A
// disable ends it all the same.
func (db *DB) UpdateUserKeeping(ctx context.Context, id, keepSession string, update func(*User) (Event, error)) (User, error) {
	var u User
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		var err error
		u, err = updateUser(ctx, tx, c, db.d.userForUpdate, id, keepSession, update)
		return err
	})
	if err != nil {
		return User{}, wrapUnlessCallback(err, "update user "+id)
	}
	return u, nil
}

func updateUser(ctx context.Context, tx *sql.Tx, c *Change, load, id, keep string, update func(*User) (Event, error)) (User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, load, id))
	if err != nil {
		return User{}, err
	}
	orig := u
	ev, err := update(&u)
	if err != nil {
		return User{}, callbackError{err}
	}
	u.ID, u.CreatedAt = orig.ID, orig.CreatedAt
	args, err := userArgs(u)
	if err != nil {
		return User{}, err
	}
	args = append(args[:11], args[12:]...) // all but created_at
	_, err = tx.ExecContext(ctx, `UPDATE users SET username = $2, username_key = $3, email = $4,
		display_name = $5, groups = $6, admin = $7, enabled = $8, source = $9, password_hash = $10,
		password_changed_at = $11, updated_at = $12, directory_disabled = $13 WHERE id = $1`, args...)
	if err != nil {
		return User{}, conflict(err)
	}
	if u.PasswordHash != orig.PasswordHash || !u.Enabled {
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_links WHERE user_id = $1`, id); err != nil {
			return User{}, err
		}
	}
	if err := announceUser(ctx, tx, c, id); err != nil {
		return User{}, err
	}
	if !u.Enabled {
		keep = ""
	}
	if !u.Enabled || !u.PasswordChangedAt.Equal(orig.PasswordChangedAt) {
		if err := endUserSessions(ctx, tx, c, id, keep); err != nil {
			return User{}, err
		}
	}
	return u, insertEvent(ctx, tx, ev)
}

// endUserSessions deletes the sessions of the user with the given id but
// the one with id keep, and adds their tokens to c.
func endUserSessions(ctx context.Context, tx *sql.Tx, c *Change, id, keep string) error {
	hs, err := queryHashes(ctx, tx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING hash`, id, keep)
	c.Secrets = append(c.Secrets, hs...)
	return err
}

// announceUser adds user id and the secrets of their personal access
// tokens to c: whether a token verifies depends on its owner's groups and
// enabled state.
func announceUser(ctx context.Context, tx *sql.Tx, c *Change, id string) error {
	hs, err := tokensOfUser(ctx, tx, id)
	if err != nil {
		return err
	}
	c.Users = append(c.Users, id)
	c.Secrets = append(c.Secrets, hs...)
	return nil
}

// DeleteUser deletes the user with the given id, with their set-password
// links, personal access tokens and sessions, and writes ev. The user is
// announced, with the secrets of their tokens and sessions. It returns
// ErrNotFound.
func (db *DB) DeleteUser(ctx context.Context, id string, ev Event) error {
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if err := announceUser(ctx, tx, c, id); err != nil {
			return err
		}
		if err := endUserSessions(ctx, tx, c, id, ""); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM password_links WHERE user_id = $1`,
			`DELETE FROM key_secrets WHERE key_id IN (SELECT id FROM keys WHERE user_id = $1)`,
			`DELETE FROM keys WHERE user_id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFoundOr(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

func notFoundOr(err error) error {
	if err != nil {
		return err
	}
	return ErrNotFound
}

// CreatePasswordLink stores l, replacing every earlier link of its user,
// and writes ev. It returns ErrNotFound if the user does not exist.
func (db *DB) CreatePasswordLink(ctx context.Context, l PasswordLink, ev Event) error {
	created, err := mustTime("created time", l.CreatedAt)
	if err != nil {
		return fmt.Errorf("create password link: %w", err)
	}
	expires, err := mustTime("expiry", l.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create password link: %w", err)
	}
	err = db.change(ctx, func(tx *sql.Tx, _ *Change) error {
		if _, err := scanUser(tx.QueryRowContext(ctx, db.d.userForUpdate, l.UserID)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_links WHERE user_id = $1`, l.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO password_links (hash, user_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4)`, l.Hash[:], l.UserID, created, expires)
		if err != nil {
			return conflict(err)
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create password link for %s: %w", l.UserID, err)
	}
	return nil
}

// PasswordLinkUser returns the id of the user of the link whose token
// hashes to hash, if it has not expired at now, without using it; or
// ErrNotFound.
func (db *DB) PasswordLinkUser(ctx context.Context, hash [32]byte, now time.Time) (string, error) {
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT user_id FROM password_links WHERE hash = $1 AND expires_at > $2`,
		hash[:], now.UnixMicro()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("password link: %w", notFound(err))
	}
	return id, nil
}

// UsePasswordLink consumes the link whose token hashes to hash, if it has
// not expired at now: in one transaction it deletes the link, loads its
// user, lets update change the user (set the password hash), saves it
// and writes the event update returns. A link works once. It returns
// ErrNotFound for a link that is unknown, used or expired; an error of
// update is returned unchanged, and then the link stays usable.
func (db *DB) UsePasswordLink(ctx context.Context, hash [32]byte, now time.Time, update func(*User) (Event, error)) (User, error) {
	var u User
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		var userID string
		err := tx.QueryRowContext(ctx, `DELETE FROM password_links WHERE hash = $1 AND expires_at > $2
			RETURNING user_id`, hash[:], now.UnixMicro()).Scan(&userID)
		if err != nil {
			return notFound(err)
		}
		u, err = updateUser(ctx, tx, c, db.d.userForUpdate, userID, "", update)
		return err
	})
	if err != nil {
		return User{}, wrapUnlessCallback(err, "use password link")
	}
	return u, nil
}
