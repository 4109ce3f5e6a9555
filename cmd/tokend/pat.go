package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// "tokend me" and "tokend pat": a person's own account and personal
// access tokens, with the token "tokend login" stored.

func patCommands() []command {
	return []command{
		{"create", "create a personal access token; prints its secret once", patCreate},
		{"list", "list your personal access tokens", patList},
		{"rotate", "give one of your tokens a new secret; prints it once", patRotate},
		{"revoke", "revoke one of your tokens for good", patRevoke},
	}
}

// personFlags are the flags of the person's commands.
type personFlags struct {
	json bool
}

func (f *personFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table, and errors as JSON")
}

// personClient parses args and returns a client acting with the stored
// login, and the positional arguments.
func personClient(c *cmdIO, fs *flag.FlagSet, f *personFlags, args []string, n int, what string) ([]string, *client.Client, error) {
	f.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := wantArgs(fs, pos, n, what); err != nil {
		return nil, nil, err
	}
	l, err := loadLogin()
	if err != nil {
		return nil, nil, err
	}
	c.baseURL = l.Server
	hc, err := httpClient(c.env("TOKEND_CACERT"))
	if err != nil {
		return nil, nil, err
	}
	cl, err := client.New(client.Config{URL: l.Server, Token: l.Token, HTTPClient: hc})
	return pos, cl, err
}

func runMe(ctx context.Context, args []string, c *cmdIO) error {
	var f personFlags
	fs := newPersonFlagSet(c, "me", "me", "Shows who you are signed in as (see 'tokend login').")
	_, cl, err := personClient(c, fs, &f, args, 0, "no arguments")
	if err != nil {
		return err
	}
	u, err := cl.Me(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(c.stdout, u)
	}
	t := newTable(c.stdout)
	t.row("ID:", u.ID)
	t.row("Username:", u.Username)
	t.row("Name:", dash(u.DisplayName))
	t.row("Email:", dash(u.Email))
	t.row("Groups:", list(u.Groups))
	return t.flush()
}

func patCreate(ctx context.Context, c *cmdIO, args []string) error {
	var f personFlags
	var req api.CreateTokenRequest
	var scopes, cidrs csvFlag
	var limits rateLimitsFlag
	var ttl time.Duration
	var noExpiry bool
	fs := newPersonFlagSet(c, "pat create", "pat create --api ID --name N --scopes S --ttl D [flags]",
		"Creates a personal access token for one API, with scopes the API's policy grants your\n"+
			"groups, and prints its secret, which is shown only this once.")
	fs.StringVar(&req.APIID, "api", "", "`ID` of the API the token is for (required)")
	fs.StringVar(&req.Name, "name", "", "`name` of the token (required)")
	fs.Var(&scopes, "scopes", "comma-separated `scopes` (repeatable)")
	durVar(fs, &ttl, "ttl", "lifetime from now, such as 30d (required unless --no-expiry)")
	fs.BoolVar(&noExpiry, "no-expiry", false, "no expiry, where the API's policy allows it")
	fs.Var(&cidrs, "cidr", "allowed client `CIDR` (repeatable)")
	fs.Var(&limits, "ratelimit", "rate limit `name:limit:window`, such as default:100:1m (repeatable)")
	_, cl, err := personClient(c, fs, &f, args, 0, "no arguments")
	if err != nil {
		return err
	}
	switch {
	case req.APIID == "" || req.Name == "":
		return fmt.Errorf("%w: --api and --name are required", errUsage)
	case noExpiry == (ttl != 0):
		return fmt.Errorf("%w: give --ttl or --no-expiry", errUsage)
	}
	if ttl != 0 {
		d := api.Duration(ttl)
		req.TTL = &d
	}
	req.Scopes, req.AllowedCIDRs, req.RateLimits = []string(scopes), []string(cidrs), []api.RateLimit(limits)
	ct, err := cl.CreateMyToken(ctx, req)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return showCreatedToken(c, f, ct)
}

func showCreatedToken(c *cmdIO, f personFlags, ct *api.CreatedToken) error {
	if f.json {
		return printJSON(c.stdout, ct)
	}
	fmt.Fprintf(c.stdout, "%s\n\nThe secret above is shown only this once. Token %s (%s), expires %s.\n",
		ct.Secret, ct.Token.ID, ct.Token.Name, whenPtr(ct.Token.ExpiresAt, "never"))
	if a := ct.Token.Approval; a != nil && a.State == api.ApprovalPending {
		fmt.Fprintln(c.stdout, "It waits for an administrator's approval: until then it is refused (PENDING_APPROVAL).")
	}
	return nil
}

func patList(ctx context.Context, c *cmdIO, args []string) error {
	var f personFlags
	fs := newPersonFlagSet(c, "pat list", "pat list", "Lists your personal access tokens, revoked and expired ones included.")
	_, cl, err := personClient(c, fs, &f, args, 0, "no arguments")
	if err != nil {
		return err
	}
	var all []api.Token
	for cursor := ""; ; {
		page, err := cl.ListMyTokens(ctx, cursor, 500)
		if err != nil {
			return err
		}
		all = append(all, page.Tokens...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if f.json {
		return printJSON(c.stdout, api.TokenList{Tokens: all})
	}
	t := newTable(c.stdout)
	t.row("ID", "NAME", "API", "SCOPES", "EXPIRES", "LAST USED", "STATE")
	for _, k := range all {
		t.row(k.ID, k.Name, k.APIID, list(k.Scopes), whenPtr(k.ExpiresAt, "never"), whenPtr(k.LastUsedAt, "never"), tokenState(k, c.now()))
	}
	return t.flush()
}

// tokenState is a token's state for a table.
func tokenState(k api.Token, now time.Time) string {
	switch {
	case k.Approval != nil && k.Approval.State == api.ApprovalDenied:
		return "denied"
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	case k.Approval != nil && k.Approval.State == api.ApprovalPending:
		return "pending approval"
	case k.ExpiringSoon:
		return "expires soon"
	}
	return "active"
}

// patIDArg checks that pos is one token ID; a secret in its place is
// refused before anything is sent.
func patIDArg(fs *flag.FlagSet, pos []string) error {
	if !strings.HasPrefix(pos[0], "pat_") {
		return fmt.Errorf("%w: tokend %s takes a token's ID (pat_…), such as one from 'tokend pat list'", errUsage, fs.Name())
	}
	return nil
}

func patRotate(ctx context.Context, c *cmdIO, args []string) error {
	var f personFlags
	var grace time.Duration
	fs := newPersonFlagSet(c, "pat rotate", "pat rotate ID [--grace 1h]",
		"Gives one of your tokens a new secret with the same settings and prints it once; the old\n"+
			"secret keeps working for --grace.")
	durVar(fs, &grace, "grace", "how long the old secret keeps working, up to 7d (default 0)")
	pos, cl, err := personClient(c, fs, &f, args, 1, "one token ID")
	if err != nil {
		return err
	}
	if err := patIDArg(fs, pos); err != nil {
		return err
	}
	ct, err := cl.RegenerateMyToken(ctx, pos[0], api.RegenerateTokenRequest{Grace: api.Duration(grace)})
	if err != nil {
		return fmt.Errorf("rotate token: %w", err)
	}
	return showCreatedToken(c, f, ct)
}

func patRevoke(ctx context.Context, c *cmdIO, args []string) error {
	var f personFlags
	fs := newPersonFlagSet(c, "pat revoke", "pat revoke ID", "Revokes one of your tokens for good; it stops working at once.")
	pos, cl, err := personClient(c, fs, &f, args, 1, "one token ID")
	if err != nil {
		return err
	}
	if err := patIDArg(fs, pos); err != nil {
		return err
	}
	k, err := cl.RevokeMyToken(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if f.json {
		return printJSON(c.stdout, k)
	}
	fmt.Fprintf(c.stdout, "Revoked %s (%s).\n", k.ID, printable(k.Name))
	return nil
}
