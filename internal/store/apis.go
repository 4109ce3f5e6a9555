package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const insertAPI = `INSERT INTO apis (` + apiCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// EnsureAPI inserts a unless an API with its ID exists, in which case it
// changes nothing. It writes no event; it is for APIs tokend itself
// defines. It returns ErrConflict if another API holds a's audience or key
// prefix.
func (db *DB) EnsureAPI(ctx context.Context, a API) error {
	args, err := apiArgs(a)
	if err != nil {
		return fmt.Errorf("ensure api %s: %w", a.ID, err)
	}
	_, err = db.w.ExecContext(ctx, insertAPI+` ON CONFLICT (id) DO NOTHING`, args...)
	if isUniqueViolation(err) {
		return fmt.Errorf("ensure api %s: %w", a.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("ensure api %s: %w", a.ID, err)
	}
	return nil
}

// CreateAPI inserts a and writes ev. It returns ErrConflict if a's ID,
// audience or key prefix is taken.
func (db *DB) CreateAPI(ctx context.Context, a API, ev Event) error {
	args, err := apiArgs(a)
	if err != nil {
		return fmt.Errorf("create api %s: %w", a.ID, err)
	}
	err = db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if _, err := tx.ExecContext(ctx, insertAPI, args...); err != nil {
			return conflict(err)
		}
		c.APIs = []string{a.ID} // its audience may name JWTs already issued
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("create api %s: %w", a.ID, err)
	}
	return nil
}

func apiArgs(a API) ([]any, error) {
	v, err := encodeAPI(a)
	if err != nil {
		return nil, err
	}
	created, err := mustTime("created time", a.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := mustTime("updated time", a.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return []any{a.ID, a.Name, a.Audience, v.scopes, a.KeyPrefix, v.policy, created, updated}, nil
}

// APIByID returns the API with the given ID, or ErrNotFound.
func (db *DB) APIByID(ctx context.Context, id string) (API, error) {
	a, err := scanAPI(db.r.QueryRowContext(ctx, `SELECT `+apiCols+` FROM apis WHERE id = $1`, id))
	if err != nil {
		return API{}, fmt.Errorf("api %s: %w", id, err)
	}
	return a, nil
}

// ListAPIs returns every API, oldest first.
func (db *DB) ListAPIs(ctx context.Context) ([]API, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+apiCols+` FROM apis ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list apis: %w", err)
	}
	defer rows.Close()
	var out []API
	for rows.Next() {
		a, err := scanAPI(rows)
		if err != nil {
			return nil, fmt.Errorf("list apis: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list apis: %w", err)
	}
	return out, nil
}

// UpdateAPI loads the API with the given ID, lets update change it, saves
// it and writes the event update returns, all in one transaction. If
// update returns an error, nothing is written and that error is returned
// unchanged. ID and CreatedAt cannot be changed. The API is announced
// with every key secret and opaque access token it has. It returns
// ErrNotFound, or ErrConflict if the new audience or key prefix is taken.
func (db *DB) UpdateAPI(ctx context.Context, id string, update func(*API) (Event, error)) (API, error) {
	var a API
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		var err error
		if a, err = scanAPI(tx.QueryRowContext(ctx, db.d.apiForUpdate, id)); err != nil {
			return err
		}
		orig := a
		ev, err := update(&a)
		if err != nil {
			return callbackError{err}
		}
		a.ID, a.CreatedAt = orig.ID, orig.CreatedAt
		args, err := apiArgs(a)
		if err != nil {
			return err
		}
		args = append(args[:6], args[7]) // all but created_at
		_, err = tx.ExecContext(ctx, `UPDATE apis SET name = $2, audience = $3, scopes = $4,
			key_prefix = $5, policy = $6, updated_at = $7 WHERE id = $1`, args...)
		if err != nil {
			return conflict(err)
		}
		c.APIs = []string{id}
		if c.Secrets, err = credentialsOfAPI(ctx, tx, id); err != nil {
			return err
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return API{}, wrapUnlessCallback(err, "update api "+id)
	}
	return a, nil
}

// DeleteAPI deletes the API with the given ID, together with its keys and
// their secrets, and writes ev. It returns ErrNotFound, or ErrInUse if the
// API has a live key: one neither revoked nor expired at now.
func (db *DB) DeleteAPI(ctx context.Context, id string, now time.Time, ev Event) error {
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if _, err := scanAPI(tx.QueryRowContext(ctx, db.d.apiForUpdate, id)); err != nil {
			return err
		}
		var live int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys WHERE api_id = $1
			AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, id, now.UnixMicro()).Scan(&live)
		if err != nil {
			return err
		}
		if live > 0 {
			return ErrInUse
		}
		c.APIs = []string{id}
		if c.Secrets, err = credentialsOfAPI(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM key_secrets WHERE key_id IN (SELECT id FROM keys WHERE api_id = $1)`,
			`DELETE FROM keys WHERE api_id = $1`,
			`DELETE FROM apis WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return inUse(err)
			}
		}
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return fmt.Errorf("delete api %s: %w", id, err)
	}
	return nil
}

// credentialsOfAPI returns the hashes of every key secret and opaque
// access token of API id: what a change to the API (its audience, its
// scopes) can change the answer for.
func credentialsOfAPI(ctx context.Context, tx *sql.Tx, id string) ([][32]byte, error) {
	keys, err := secretsOf(ctx, tx, `s.key_id IN (SELECT id FROM keys WHERE api_id = $1)`, id)
	if err != nil {
		return nil, err
	}
	tokens, err := queryHashes(ctx, tx, `SELECT hash FROM oauth_access_tokens WHERE api_id = $1`, id)
	return append(keys, tokens...), err
}

// conflict turns a unique violation into ErrConflict.
func conflict(err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("%w (%w)", ErrConflict, err)
	}
	return err
}

// inUse turns a foreign key violation into ErrInUse: on PostgreSQL a key
// created concurrently can still reference a row being deleted.
func inUse(err error) error {
	if isForeignKeyViolation(err) {
		return fmt.Errorf("%w (%w)", ErrInUse, err)
	}
	return err
}
