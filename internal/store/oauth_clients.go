package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

const clientCols = `id, name, grant_types, api_scopes, access_ttl_us, refresh_ttl_us, token_format, auth_method,
	jwks, secret_hash, secret_start, secret_end, registration_hash, dynamic, created_at, updated_at,
	redirect_uris, post_logout_redirect_uris, first_party, id_token_alg, metadata, dpop_bound,
	approval, approval_reason, approval_at`

func scanClient(s scanner) (Client, error) {
	var c Client
	var grants, scopes, redirects, logouts, meta string
	var jwks sql.NullString
	var accessUS, refreshUS int64
	var created, updated, decided sql.NullInt64
	err := s.Scan(&c.ID, &c.Name, &grants, &scopes, &accessUS, &refreshUS, &c.TokenFormat, &c.AuthMethod,
		&jwks, &c.SecretHash, &c.SecretStart, &c.SecretEnd, &c.RegistrationHash, &c.Dynamic, &created, &updated,
		&redirects, &logouts, &c.FirstParty, &c.IDTokenAlg, &meta, &c.DPoPBound,
		&c.Approval.State, &c.Approval.Reason, &decided)
	if err != nil {
		return Client{}, notFound(err)
	}
	if c.RedirectURIs, err = decodeList(redirects); err != nil {
		return Client{}, fmt.Errorf("client %s redirect uris: %w", c.ID, err)
	}
	if c.PostLogoutRedirectURIs, err = decodeList(logouts); err != nil {
		return Client{}, fmt.Errorf("client %s post-logout redirect uris: %w", c.ID, err)
	}
	if c.Meta, err = decodeClientMeta(meta); err != nil {
		return Client{}, fmt.Errorf("client %s metadata: %w", c.ID, err)
	}
	if c.GrantTypes, err = decodeStrings(grants); err != nil {
		return Client{}, fmt.Errorf("client %s grant types: %w", c.ID, err)
	}
	if err = json.Unmarshal([]byte(scopes), &c.APIScopes); err != nil {
		return Client{}, fmt.Errorf("client %s api scopes: %w", c.ID, err)
	}
	c.AccessTokenTTL, c.RefreshTokenTTL = durationFromMicros(accessUS), durationFromMicros(refreshUS)
	c.JWKS = fromJSONText(jwks)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.Approval.DecidedAt = fromMicros(decided)
	return c, nil
}

// clientArgs returns c's columns in clientCols order.
func clientArgs(c Client) ([]any, error) {
	grants, err := encodeJSON(c.GrantTypes)
	if err != nil {
		return nil, err
	}
	scopes, err := encodeJSON(c.APIScopes)
	if err != nil {
		return nil, err
	}
	jwks, err := jsonText("client jwks", c.JWKS)
	if err != nil {
		return nil, err
	}
	for what, h := range map[string][]byte{"secret": c.SecretHash, "registration": c.RegistrationHash} {
		if h != nil && len(h) != 32 {
			return nil, fmt.Errorf("client %s hash has %d bytes", what, len(h))
		}
	}
	created, err := mustTime("created time", c.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := mustTime("updated time", c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	redirects, err := encodeJSON(emptyList(c.RedirectURIs))
	if err != nil {
		return nil, err
	}
	logouts, err := encodeJSON(emptyList(c.PostLogoutRedirectURIs))
	if err != nil {
		return nil, err
	}
	meta, err := encodeClientMeta(c.Meta)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.Name, grants, scopes, c.AccessTokenTTL.Microseconds(), c.RefreshTokenTTL.Microseconds(),
		c.TokenFormat, c.AuthMethod, jwks, c.SecretHash, c.SecretStart, c.SecretEnd, c.RegistrationHash,
		c.Dynamic, created, updated, redirects, logouts, c.FirstParty, c.IDTokenAlg, meta, c.DPoPBound,
		c.Approval.State, c.Approval.Reason, micros(c.Approval.DecidedAt)}, nil
}

// CreateClient inserts c and writes ev and the further events more (a
// pending client's approval.requested). It returns ErrConflict if c.ID or
// c.RegistrationHash is taken.
func (db *DB) CreateClient(ctx context.Context, c Client, ev Event, more ...Event) error {
	args, err := clientArgs(c)
	if err != nil {
		return fmt.Errorf("create client %s: %w", c.ID, err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (`+clientCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
	$23, $24, $25)`, args...)
		if err != nil {
			return conflict(err)
		}
		return insertEvents(ctx, tx, append([]Event{ev}, more...))
	})
	if err != nil {
		return fmt.Errorf("create client %s: %w", c.ID, err)
	}
	return nil
}

// ClientByID returns the client with the given ID, or ErrNotFound.
func (db *DB) ClientByID(ctx context.Context, id string) (Client, error) {
	c, err := scanClient(db.r.QueryRowContext(ctx, `SELECT `+clientCols+` FROM oauth_clients WHERE id = $1`, id))
	if err != nil {
		return Client{}, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}

// ClientByRegistrationHash returns the dynamically registered client whose
// registration access token has the given hash, or ErrNotFound.
func (db *DB) ClientByRegistrationHash(ctx context.Context, hash [32]byte) (Client, error) {
	c, err := scanClient(db.r.QueryRowContext(ctx,
		`SELECT `+clientCols+` FROM oauth_clients WHERE registration_hash = $1`, hash[:]))
	if err != nil {
		return Client{}, fmt.Errorf("client by registration token: %w", err)
	}
	return c, nil
}

// ListClients returns up to limit clients in ID order, starting after the
// ID after ("" for the first page).
func (db *DB) ListClients(ctx context.Context, after string, limit int) ([]Client, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list clients: limit %d is less than 1", limit)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+clientCols+` FROM oauth_clients WHERE id > $1 ORDER BY id LIMIT $2`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return out, nil
}

// UpdateClient loads the client with the given ID, lets update change it,
// saves it and writes the event update returns, all in one transaction.
// Settings changes, secret rotation and RFC 7592 updates all go through
// it. If update returns an error, nothing is written and that error is
// returned unchanged. ID, Dynamic and CreatedAt cannot be changed. The
// client is announced, so that every node reads it again. It returns
// ErrNotFound, or ErrConflict if the registration hash is taken.
func (db *DB) UpdateClient(ctx context.Context, id string, update func(*Client) (Event, error)) (Client, error) {
	return db.UpdateClientEvents(ctx, id, func(c *Client) ([]Event, error) {
		ev, err := update(c)
		return []Event{ev}, err
	})
}

// UpdateClientEvents is UpdateClient for an update that writes one event
// or more (a change and the approval.requested it causes, say).
func (db *DB) UpdateClientEvents(ctx context.Context, id string, update func(*Client) ([]Event, error)) (Client, error) {
	var c Client
	err := db.change(ctx, func(tx *sql.Tx, ch *Change) error {
		var err error
		if c, err = scanClient(tx.QueryRowContext(ctx, db.clientForUpdate(), id)); err != nil {
			return err
		}
		orig := c
		evs, err := update(&c)
		if err != nil {
			return callbackError{err}
		}
		c.ID, c.Dynamic, c.CreatedAt = orig.ID, orig.Dynamic, orig.CreatedAt
		args, err := clientArgs(c)
		if err != nil {
			return err
		}
		args = append(args[:13], args[15:]...) // all but dynamic and created_at
		_, err = tx.ExecContext(ctx, `UPDATE oauth_clients SET name = $2, grant_types = $3, api_scopes = $4,
	access_ttl_us = $5, refresh_ttl_us = $6, token_format = $7, auth_method = $8, jwks = $9,
	secret_hash = $10, secret_start = $11, secret_end = $12, registration_hash = $13, updated_at = $14,
	redirect_uris = $15, post_logout_redirect_uris = $16, first_party = $17, id_token_alg = $18, metadata = $19,
	dpop_bound = $20, approval = $21, approval_reason = $22, approval_at = $23
WHERE id = $1`, args...)
		if err != nil {
			return conflict(err)
		}
		ch.Clients = []string{id}
		return insertEvents(ctx, tx, evs)
	})
	if err != nil {
		return Client{}, wrapUnlessCallback(err, "update client "+id)
	}
	return c, nil
}

// DeleteClient deletes the client with the given ID together with its
// opaque access tokens and refresh tokens, writes ev, and announces the
// client and its access tokens. It returns the hashes of the deleted
// access tokens, or ErrNotFound.
func (db *DB) DeleteClient(ctx context.Context, id string, ev Event) ([][32]byte, error) {
	var hashes [][32]byte
	err := db.change(ctx, func(tx *sql.Tx, c *Change) error {
		if _, err := scanClient(tx.QueryRowContext(ctx, db.clientForUpdate(), id)); err != nil {
			return err
		}
		var err error
		if hashes, err = queryHashes(ctx, tx, `SELECT hash FROM oauth_access_tokens WHERE client_id = $1`, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM oauth_access_tokens WHERE client_id = $1`,
			`DELETE FROM oauth_refresh_tokens WHERE client_id = $1`,
			`DELETE FROM oauth_assertion_jtis WHERE client_id = $1`,
			`DELETE FROM oauth_clients WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		c.Clients, c.Secrets = []string{id}, hashes
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("delete client %s: %w", id, err)
	}
	return hashes, nil
}

// queryHashes runs q, which selects one 32-byte hash column.
func queryHashes(ctx context.Context, tx *sql.Tx, q string, args ...any) ([][32]byte, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][32]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("hash has %d bytes", len(b))
		}
		out = append(out, [32]byte(b))
	}
	return out, rows.Err()
}

// clientForUpdate loads one client ($1: id) inside a write transaction,
// locking the row on PostgreSQL; SQLite's single writer serializes writes.
func (db *DB) clientForUpdate() string {
	q := `SELECT ` + clientCols + ` FROM oauth_clients WHERE id = $1`
	if db.d.name == "postgres" {
		q += ` FOR UPDATE`
	}
	return q
}
