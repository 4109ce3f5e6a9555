package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GrantFilter selects a page of every user's OAuth grants for the admin
// list (ListAllGrants). Every field but Limit is optional.
type GrantFilter struct {
	UserID   string
	ClientID string
	// APIID keeps the grants that name the API.
	APIID string
	// UnusedSince keeps the grants last used before it, least recently
	// used first (else the list is in user and client order).
	UnusedSince time.Time
	// After is the GrantCursor of the last grant of the previous page.
	After string
	Limit int
}

// ListAllGrants returns up to f.Limit grants of f's filter in its order,
// after the cursor f.After: one search of an index in that order
// (migration 0019), at any depth. A cursor not of GrantCursor's form is
// ErrBadCursor; CheckGrantCursor also checks the shape of its ids.
func (db *DB) ListAllGrants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	q, args, err := grantListQuery(f)
	if err != nil {
		return nil, fmt.Errorf("list all grants: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list all grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list all grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list all grants: %w", err)
	}
	return out, nil
}

const grantColsG = `g.user_id, g.client_id, g.scopes, g.api_ids, g.created_at, g.last_used_at`

// grantListQuery is ListAllGrants's query and its arguments. An API's
// grants are read from oauth_grant_apis in its key order, unless the
// list is by last use; a fixed user or client leaves the cursor the
// other column to compare.
func grantListQuery(f GrantFilter) (string, []any, error) {
	if f.Limit < 1 {
		return "", nil, fmt.Errorf("limit %d is less than 1", f.Limit)
	}
	var w filter
	from, user, client := `SELECT `+grantColsG+` FROM oauth_grants g`, "g.user_id", "g.client_id"
	byUse := !f.UnusedSince.IsZero()
	if f.APIID != "" && !byUse {
		from = `SELECT ` + grantColsG + ` FROM oauth_grant_apis x JOIN oauth_grants g ON g.user_id = x.user_id AND g.client_id = x.client_id`
		user, client = "x.user_id", "x.client_id"
		w.add("x.api_id = $?", f.APIID)
	} else if f.APIID != "" {
		w.add(`EXISTS (SELECT 1 FROM oauth_grant_apis x WHERE x.api_id = $? AND x.user_id = g.user_id AND x.client_id = g.client_id)`, f.APIID)
	}
	if f.UserID != "" {
		w.add(user+" = $?", f.UserID)
	}
	if f.ClientID != "" {
		w.add(client+" = $?", f.ClientID)
	}
	order := user + ", " + client
	if byUse {
		w.add("g.last_used_at < $?", f.UnusedSince.UnixMicro())
		order = "g.last_used_at, " + order
	}
	if f.After != "" {
		c, err := parseGrantCursor(f.After, byUse)
		if err != nil {
			return "", nil, err
		}
		if byUse {
			w.addArgs("g.last_used_at >= $1? AND (g.last_used_at > $1? OR "+keyAfter(f, user, client, "$2?", "$3?")+")", c.at, c.user, c.client)
		} else {
			w.addArgs(keyAfter(f, user, client, "$1?", "$2?"), c.user, c.client)
		}
	}
	q, args := w.page(from, order, f.Limit)
	return q, args, nil
}

// keyAfter is the condition "after the grant (u, c) in user and client
// order" on the columns user and client, u and c their placeholders;
// when f fixes one of them it compares the other alone, which every
// index walks.
func keyAfter(f GrantFilter, user, client, u, c string) string {
	switch {
	case f.UserID != "":
		return "(" + user + " = " + u + " AND " + client + " > " + c + ")"
	case f.ClientID != "":
		return "(" + client + " = " + c + " AND " + user + " > " + u + ")"
	}
	return "(" + user + " > " + u + " OR (" + user + " = " + u + " AND " + client + " > " + c + "))"
}

// grantCursor is a parsed GrantCursor.
type grantCursor struct {
	at           int64
	user, client string
}

// GrantCursor is the cursor of a page of f that ends with g: the page
// after it starts after g.
func GrantCursor(f GrantFilter, g Grant) string {
	c := g.UserID + "." + g.ClientID
	if !f.UnusedSince.IsZero() {
		c = strconv.FormatInt(g.LastUsedAt.UnixMicro(), 10) + "." + c
	}
	return c
}

// parseGrantCursor reads a cursor of GrantCursor: a user and a client,
// after the time of last use (as strconv.FormatInt writes it) when byUse.
// User ids hold no dot; client ids may (a client ID metadata document's
// URL), so the client is the rest. CheckGrantCursor also checks the ids'
// shapes.
func parseGrantCursor(s string, byUse bool) (grantCursor, error) {
	var c grantCursor
	if byUse {
		at, rest, cut := strings.Cut(s, ".")
		n, ok := decimal(at)
		if !cut || !ok {
			return c, ErrBadCursor
		}
		c.at, s = n, rest
	}
	user, client, ok := strings.Cut(s, ".")
	if !ok || user == "" || client == "" {
		return c, ErrBadCursor
	}
	c.user, c.client = user, client
	return c, nil
}

// setGrantAPIs makes oauth_grant_apis name exactly apiIDs for the grant
// of userID to clientID, within tx; an API that no longer exists is left
// out.
func setGrantAPIs(ctx context.Context, tx *sql.Tx, userID, clientID string, apiIDs []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_grant_apis WHERE user_id = $1 AND client_id = $2`, userID, clientID); err != nil {
		return err
	}
	for _, id := range apiIDs {
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_grant_apis (api_id, user_id, client_id)
SELECT id, $2, $3 FROM apis WHERE id = $1 ON CONFLICT DO NOTHING`, id, userID, clientID)
		if err != nil {
			return err
		}
	}
	return nil
}
