package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Session is one browser session of a user (package user). Hash is the
// SHA-256 of its token; the token itself is never stored. Pending is ""
// for a full session, else the step the user still owes. ExpiresAt is
// the absolute end; the idle end is LastSeenAt plus the idle timeout,
// which the caller owns.
type Session struct {
	ID         string
	Hash       [32]byte
	UserID     string
	Pending    string
	AMR        []string
	AuthTime   time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

const sessionCols = `id, hash, user_id, pending, amr, auth_time, created_at, last_seen_at, expires_at, ip, user_agent`

func scanSession(s scanner) (Session, error) {
	var ss Session
	var hash []byte
	var amr string
	var auth, created, seen, expires int64
	err := s.Scan(&ss.ID, &hash, &ss.UserID, &ss.Pending, &amr, &auth, &created, &seen, &expires, &ss.IP, &ss.UserAgent)
	if err != nil {
		return Session{}, notFound(err)
	}
	if len(hash) != 32 {
		return Session{}, fmt.Errorf("session %s: hash has %d bytes", ss.ID, len(hash))
	}
	ss.Hash = [32]byte(hash)
	if ss.AMR, err = decodeStrings(amr); err != nil {
		return Session{}, fmt.Errorf("session %s amr: %w", ss.ID, err)
	}
	ss.AuthTime, ss.CreatedAt = time.UnixMicro(auth).UTC(), time.UnixMicro(created).UTC()
	ss.LastSeenAt, ss.ExpiresAt = time.UnixMicro(seen).UTC(), time.UnixMicro(expires).UTC()
	return ss, nil
}

// sessionArgs returns s's columns in the order of sessionCols.
func sessionArgs(s Session) ([]any, error) {
	amr, err := encodeJSON(s.AMR)
	if err != nil {
		return nil, err
	}
	if s.AMR == nil {
		amr = "[]"
	}
	args := []any{s.ID, s.Hash[:], s.UserID, s.Pending, amr}
	for _, t := range []struct {
		what string
		t    time.Time
	}{{"auth time", s.AuthTime}, {"created time", s.CreatedAt}, {"last seen time", s.LastSeenAt}, {"expiry", s.ExpiresAt}} {
		us, err := mustTime(t.what, t.t)
		if err != nil {
			return nil, err
		}
		args = append(args, us)
	}
	return append(args, s.IP, s.UserAgent), nil
}

func insertSession(ctx context.Context, tx *sql.Tx, s Session) error {
	args, err := sessionArgs(s)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, args...)
	if isForeignKeyViolation(err) {
		return ErrNotFound
	}
	return conflict(err)
}

// CreateSession stores s and writes ev, unless its user is missing
// (ErrNotFound) or disabled (ErrDisabled), checked in the same
// transaction so that a session cannot outlive a concurrent disable. A
// new session announces nothing: no answer about it was cached.
func (db *DB) CreateSession(ctx context.Context, s Session, ev Event) error {
	err := db.change(ctx, func(tx *sql.Tx, _ *Change) error {
		if err := enabledUser(ctx, tx, db.d.userForUpdate, s.UserID); err != nil {
			return err
		}
		if err := insertSession(ctx, tx, s); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create session for %s: %w", s.UserID, err)
	}
	return nil
}

func enabledUser(ctx context.Context, tx *sql.Tx, load, id string) error {
	u, err := scanUser(tx.QueryRowContext(ctx, load, id))
	if err != nil {
		return err
	}
	if !u.Enabled {
		return ErrDisabled
	}
	return nil
}

// ReplaceSession ends the session whose token hashes to old and stores
// next in its place, in one transaction with ev: a session's token
// changes when its user completes a step (a second factor). It returns
// ErrNotFound if the old session is gone, and ErrDisabled if the user is
// disabled. It announces the old token.
func (db *DB) ReplaceSession(ctx context.Context, old [32]byte, next Session, ev Event) error {
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1 AND user_id = $2`, old[:], next.UserID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFoundOr(err)
		}
		c.Secrets = append(c.Secrets, old)
		if err := enabledUser(ctx, tx, db.d.userForUpdate, next.UserID); err != nil {
			return err
		}
		if err := insertSession(ctx, tx, next); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("replace session of %s: %w", next.UserID, err)
	}
	return nil
}

// SessionByHash returns the session whose token hashes to hash, or
// ErrNotFound. It does not look at expiry: the caller owns the timeouts.
func (db *DB) SessionByHash(ctx context.Context, hash [32]byte) (Session, error) {
	s, err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = $1`, hash[:]))
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// SessionsOfUser returns the sessions of the user with the given id,
// newest first.
func (db *DB) SessionsOfUser(ctx context.Context, userID string) ([]Session, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE user_id = $1
		ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sessions of %s: %w", userID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", userID, err)
	}
	return out, nil
}

// TouchSession moves the last-seen time of the session with the given id
// forward to at; an earlier at changes nothing. It announces nothing: a
// later last-seen time cannot end a session, and each node keeps its own
// view of it between touches.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`,
			id, at.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("touch session %s: %w", id, err)
	}
	return nil
}

// DeleteSession ends the session of the given user with the given id and
// writes ev (if its Action is set). It returns ErrNotFound, also for a
// session of another user.
func (db *DB) DeleteSession(ctx context.Context, userID, id string, ev Event) error {
	err := db.endSessions(ctx, `user_id = $1 AND id = $2`, []any{userID, id}, ev, true)
	if err != nil {
		return fmt.Errorf("delete session %s: %w", id, err)
	}
	return nil
}

// DeleteSessionByHash ends the session whose token hashes to hash and
// writes ev (if its Action is set), for a sign-out. It returns
// ErrNotFound.
func (db *DB) DeleteSessionByHash(ctx context.Context, hash [32]byte, ev Event) error {
	err := db.endSessions(ctx, `hash = $1`, []any{hash[:]}, ev, true)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of the user with the given id
// but the one with id except ("" for none), writes ev (if its Action is
// set) and returns how many ended.
func (db *DB) DeleteUserSessions(ctx context.Context, userID, except string, ev Event) (int, error) {
	var n int
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		hs, err := queryHashes(ctx, tx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING hash`, userID, except)
		if err != nil {
			return err
		}
		n, c.Secrets = len(hs), hs
		if ev.Action == "" {
			return nil
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return n, nil
}

// endSessions deletes the sessions chosen by where and announces their
// tokens; with one set, deleting none is ErrNotFound.
func (db *DB) endSessions(ctx context.Context, where string, args []any, ev Event, one bool) error {
	return db.change(ctx, func(tx *sql.Tx, c *Change) error {
		hs, err := queryHashes(ctx, tx, `DELETE FROM sessions WHERE `+where+` RETURNING hash`, args...)
		if err != nil {
			return err
		}
		if one && len(hs) == 0 {
			return ErrNotFound
		}
		c.Secrets = hs
		if ev.Action == "" {
			return nil
		}
		return insertEvent(ctx, tx, ev)
	})
}

// DeleteExpiredSessions deletes the sessions that ended by now: past
// their absolute expiry, or last seen at or before idleBefore. Like the other
// sweeps it announces nothing, since every cache checks both ends itself.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
			now.UnixMicro(), idleBefore.UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
