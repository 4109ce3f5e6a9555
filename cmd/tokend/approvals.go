package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tokend/tokend/api"
)

func approvalCommands() []command {
	return []command{
		{"list", "list personal access tokens and clients awaiting an admin's approval", approvalsList},
		{"approve", "approve a pending token or client", approvalsApprove},
		{"deny", "deny a pending token or client, with a reason its owner is shown", approvalsDeny},
	}
}

func approvalsList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var state, cursor string
	var limit int
	fs := newFlagSet(c, "approvals list", "approvals list [--state pending|approved|denied] [--json]",
		"Lists the personal access tokens and dynamically registered clients held for an admin's approval, oldest first.")
	fs.StringVar(&state, "state", "pending", "list the approvals in this `state`: pending, approved or denied")
	fs.StringVar(&cursor, "cursor", "", "start after this `cursor` (next_cursor of the previous page)")
	fs.IntVar(&limit, "limit", 0, "page size, 1 to 500 (default 50)")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := cl.ListApprovals(ctx, state, cursor, limit)
	if err != nil {
		return fmt.Errorf("list approvals: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	t := newTable(c.stdout)
	t.row("ID", "KIND", "NAME", "OWNER", "ASKS FOR", "REQUESTED", "STATE")
	for _, a := range l.Approvals {
		name, owner, asks := approvalSubject(a)
		t.row(a.ID, a.Kind, name, owner, asks, when(a.RequestedAt), a.State)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(c.stdout, "\nmore: --cursor %s\n", l.NextCursor)
	}
	return nil
}

// approvalSubject is what a person deciding needs to read of a: the
// credential's name, its owner, and the API scopes it asks for.
func approvalSubject(a api.Approval) (name, owner, asks string) {
	if t := a.Token; t != nil {
		return t.Name, t.UserID, t.APIID + ":" + strings.Join(t.Scopes, ",")
	}
	if cl := a.Client; cl != nil {
		var parts []string
		for id, scs := range cl.APIScopes {
			parts = append(parts, id+":"+strings.Join(scs, ","))
		}
		sort.Strings(parts)
		return cl.Name, "-", dash(strings.Join(parts, " "))
	}
	return "-", "-", "-"
}

func approvalsApprove(ctx context.Context, c *cmdIO, args []string) error {
	return decideApproval(ctx, c, args, "approve", "approvals approve ID [--reason TEXT]",
		"Approves a pending personal access token (it verifies from then on) or client (it may get tokens).")
}

func approvalsDeny(ctx context.Context, c *cmdIO, args []string) error {
	return decideApproval(ctx, c, args, "deny", "approvals deny ID --reason TEXT",
		"Denies a pending personal access token (it is revoked) or client (it never gets a token). The owner is shown the reason.")
}

func decideApproval(ctx context.Context, c *cmdIO, args []string, verb, usage, help string) error {
	var conn connFlags
	var reason string
	fs := newFlagSet(c, "approvals "+verb, usage, help)
	fs.StringVar(&reason, "reason", "", "the `reason`, shown to the owner (required to deny)")
	pos, cl, err := connect(c, fs, &conn, args, 1, "one token or client ID")
	if err != nil {
		return err
	}
	if verb == "deny" && reason == "" {
		return fmt.Errorf("%w: --reason is required to deny", errUsage)
	}
	decide := cl.Approve
	if verb == "deny" {
		decide = cl.Deny
	}
	a, err := decide(ctx, pos[0], reason)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, pos[0], err)
	}
	if conn.json {
		return printJSON(c.stdout, a)
	}
	name, owner, asks := approvalSubject(*a)
	t := newTable(c.stdout)
	t.row("ID:", a.ID)
	t.row("Kind:", a.Kind)
	t.row("Name:", name)
	t.row("Owner:", owner)
	t.row("Asks for:", asks)
	t.row("State:", a.State)
	t.row("Reason:", dash(a.Reason))
	t.row("Decided:", whenPtr(a.DecidedAt, "-"))
	return t.flush()
}
