package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// insertEvents writes evs in order.
func insertEvents(ctx context.Context, tx *sql.Tx, evs []Event) error {
	for _, ev := range evs {
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// ApprovalItem is one credential held for an administrator's approval:
// a personal access token (Key set) or an OAuth client (Client set).
type ApprovalItem struct {
	Key    *Key
	Client *Client
}

// ID is the credential's id.
func (it ApprovalItem) ID() string {
	if it.Key != nil {
		return it.Key.ID
	}
	return it.Client.ID
}

// Approval is the credential's approval.
func (it ApprovalItem) Approval() Approval {
	if it.Key != nil {
		return it.Key.Approval
	}
	return it.Client.Approval
}

// CreatedAt is when the credential was made: when its approval was
// requested.
func (it ApprovalItem) CreatedAt() time.Time {
	if it.Key != nil {
		return it.Key.CreatedAt
	}
	return it.Client.CreatedAt
}

// ApprovalFilter selects credentials for ListApprovals: those in State
// (ApprovalPending, ApprovalApproved or ApprovalDenied), oldest first,
// starting after the cursor After (ApprovalCursor of the last item of
// the previous page). Limit is at least 1.
type ApprovalFilter struct {
	State string
	After string
	Limit int
}

// ListApprovals returns up to f.Limit personal access tokens and clients
// whose approval is in f.State, oldest first (ties in id order); pending
// tokens their owners revoked are left out. Each
// table is read through its approval index (migration 0018). A cursor
// not of ApprovalCursor's form is ErrBadCursor; CheckApprovalCursor also
// checks the shape of its id.
func (db *DB) ListApprovals(ctx context.Context, f ApprovalFilter) ([]ApprovalItem, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("list approvals: limit %d is less than 1", f.Limit)
	}
	if f.State != ApprovalPending && f.State != ApprovalApproved && f.State != ApprovalDenied {
		return nil, fmt.Errorf("list approvals: unknown state %q", f.State)
	}
	var at int64
	var id string
	if f.After != "" {
		var err error
		if at, id, err = splitCursor(f.After); err != nil {
			return nil, fmt.Errorf("list approvals: %w", err)
		}
	}
	keys, err := db.approvalKeys(ctx, f, at, id)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	clients, err := db.approvalClients(ctx, f, at, id)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	out := make([]ApprovalItem, 0, len(keys)+len(clients))
	for i := range keys {
		out = append(out, ApprovalItem{Key: &keys[i]})
	}
	for i := range clients {
		out = append(out, ApprovalItem{Client: &clients[i]})
	}
	slices.SortFunc(out, func(a, b ApprovalItem) int {
		return cmp.Or(a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(a.ID(), b.ID()))
	})
	return out[:min(len(out), f.Limit)], nil
}

// afterCursor is the condition of the rows after the cursor (at, id).
const afterCursor = `created_at >= $2 AND (created_at > $2 OR id > $3)`

func (db *DB) approvalKeys(ctx context.Context, f ApprovalFilter, at int64, id string) ([]Key, error) {
	q := `SELECT ` + keyCols + ` FROM keys k WHERE approval = $1 AND ` + afterCursor
	if f.State == ApprovalPending {
		// A pending token its owner revoked waits for nothing.
		q += ` AND revoked_at IS NULL`
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY created_at, id LIMIT $4`, f.State, at, id, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (db *DB) approvalClients(ctx context.Context, f ApprovalFilter, at int64, id string) ([]Client, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+clientCols+` FROM oauth_clients WHERE approval = $1 AND `+afterCursor+`
		ORDER BY created_at, id LIMIT $4`, f.State, at, id, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ApprovalCursor is the cursor of a page of ListApprovals that ends with
// it.
func ApprovalCursor(it ApprovalItem) string {
	return strconv.FormatInt(it.CreatedAt().UnixMicro(), 10) + "." + it.ID()
}
