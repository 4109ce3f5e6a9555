package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

func apiCommands() []command {
	return []command{
		{"create", "register an API (a resource server) whose keys tokend issues", apisCreate},
		{"list", "list APIs", apisList},
		{"show", "show one API", apisShow},
		{"update", "change an API's name, scopes or policy", apisUpdate},
		{"delete", "delete an API", apisDelete},
	}
}

// apiFlags are the settable fields of an API.
type apiFlags struct {
	name               string
	scopes             csvFlag
	maxKeyTTL          time.Duration
	requireIPAllowlist bool
	defaultRateLimits  rateLimitsFlag
	noDefaultLimits    bool
	approveClients     bool
	approvalScopes     csvFlag
	noApprovalScopes   bool
}

func (f *apiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "human-readable `name`")
	fs.Var(&f.scopes, "scopes", "comma-separated `scopes` keys may be given (repeatable)")
	durVar(fs, &f.maxKeyTTL, "max-key-ttl", "longest key lifetime, such as 30d; 0 means no cap")
	fs.BoolVar(&f.requireIPAllowlist, "require-ip-allowlist", false, "refuse keys without --cidr")
	fs.Var(&f.defaultRateLimits, "default-ratelimit", "`name:limit:window` given to keys created without rate limits (repeatable)")
	fs.BoolVar(&f.approveClients, "approve-dynamic-clients", false, "hold dynamically registered clients of the API for an admin's approval")
	fs.Var(&f.approvalScopes, "pat-approval-scopes", "comma-separated `scopes` a personal access token may hold only once an admin approves it (repeatable)")
}

// policy applies the policy flags that were set to p.
func (f *apiFlags) policy(p api.Policy, set map[string]bool) api.Policy {
	if set["max-key-ttl"] {
		p.MaxKeyTTL = api.Duration(f.maxKeyTTL)
	}
	if set["require-ip-allowlist"] {
		p.RequireIPAllowlist = f.requireIPAllowlist
	}
	if set["default-ratelimit"] {
		p.DefaultRateLimits = f.defaultRateLimits
	}
	if f.noDefaultLimits {
		p.DefaultRateLimits = nil
	}
	if set["approve-dynamic-clients"] {
		p.ApproveDynamicClients = f.approveClients
	}
	if set["pat-approval-scopes"] {
		p.PATApprovalScopes = f.approvalScopes
	}
	if f.noApprovalScopes {
		p.PATApprovalScopes = nil
	}
	return p
}

// policyFlags are the flags policy reads.
var policyFlags = []string{"max-key-ttl", "require-ip-allowlist", "default-ratelimit", "no-default-ratelimits",
	"approve-dynamic-clients", "pat-approval-scopes", "no-pat-approval-scopes"}

func apisCreate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f apiFlags
	var audience, prefix string
	fs := newFlagSet(c, "apis create",
		"apis create --name N --audience A --scopes a,b --key-prefix P [flags]",
		"Registers an API. The audience and key prefix cannot change later.")
	f.register(fs)
	fs.StringVar(&audience, "audience", "", "the API's `audience`, usually its URL (required)")
	fs.StringVar(&prefix, "key-prefix", "", "`prefix` of the API's keys, such as bill (required)")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	if f.name == "" || audience == "" || prefix == "" {
		return fmt.Errorf("%w: --name, --audience and --key-prefix are required", errUsage)
	}
	a, err := cl.CreateAPI(ctx, api.CreateAPIRequest{
		Name: f.name, Audience: audience, Scopes: orEmpty(f.scopes), KeyPrefix: prefix,
		Policy: f.policy(api.Policy{}, setFlags(fs)),
	})
	if err != nil {
		return fmt.Errorf("create api: %w", err)
	}
	return showAPI(c, conn, a)
}

func apisList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	fs := newFlagSet(c, "apis list", "apis list [--json]", "Lists every API.")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := cl.ListAPIs(ctx)
	if err != nil {
		return fmt.Errorf("list apis: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	return printAPIs(c.stdout, l.APIs)
}

func apisShow(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	fs := newFlagSet(c, "apis show", "apis show ID [--json]", "Shows one API.")
	pos, cl, err := connect(c, fs, &conn, args, 1, "one API ID")
	if err != nil {
		return err
	}
	a, err := cl.GetAPI(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("show api %s: %w", pos[0], err)
	}
	return showAPI(c, conn, a)
}

func apisUpdate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f apiFlags
	fs := newFlagSet(c, "apis update", "apis update ID [flags]",
		"Changes the given fields of an API; others keep their value.")
	f.register(fs)
	fs.BoolVar(&f.noDefaultLimits, "no-default-ratelimits", false, "remove the default rate limits")
	fs.BoolVar(&f.noApprovalScopes, "no-pat-approval-scopes", false, "let personal access tokens hold every scope without approval")
	pos, cl, err := connect(c, fs, &conn, args, 1, "one API ID")
	if err != nil {
		return err
	}
	req, err := f.update(ctx, cl, pos[0], setFlags(fs))
	if err != nil {
		return err
	}
	a, err := cl.UpdateAPI(ctx, pos[0], req)
	if err != nil {
		return fmt.Errorf("update api %s: %w", pos[0], err)
	}
	return showAPI(c, conn, a)
}

// update builds the PATCH body. The policy travels whole, so changing one
// of its settings first reads the others.
func (f *apiFlags) update(ctx context.Context, cl *client.Client, id string, set map[string]bool) (api.UpdateAPIRequest, error) {
	var req api.UpdateAPIRequest
	if set["name"] {
		req.Name = &f.name
	}
	if set["scopes"] {
		req.Scopes = (*[]string)(&f.scopes)
	}
	if slices.ContainsFunc(policyFlags, func(name string) bool { return set[name] }) {
		cur, err := cl.GetAPI(ctx, id)
		if err != nil {
			return req, fmt.Errorf("update api %s: read policy: %w", id, err)
		}
		p := f.policy(cur.Policy, set)
		req.Policy = &p
	}
	if req == (api.UpdateAPIRequest{}) {
		return req, fmt.Errorf("%w: nothing to update; give at least one flag", errUsage)
	}
	return req, nil
}

func apisDelete(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	fs := newFlagSet(c, "apis delete", "apis delete ID", "Deletes an API.")
	pos, cl, err := connect(c, fs, &conn, args, 1, "one API ID")
	if err != nil {
		return err
	}
	if err := cl.DeleteAPI(ctx, pos[0]); err != nil {
		return fmt.Errorf("delete api %s: %w", pos[0], err)
	}
	if !conn.json {
		fmt.Fprintf(c.stdout, "deleted api %s\n", pos[0])
	}
	return nil
}

func showAPI(c *cmdIO, conn connFlags, a *api.API) error {
	if conn.json {
		return printJSON(c.stdout, a)
	}
	return printAPI(c.stdout, a)
}

// orEmpty sends an absent list as [] rather than null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
