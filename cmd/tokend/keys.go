package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

func keyCommands() []command {
	return []command{
		{"create", "issue a key; prints its secret once", keysCreate},
		{"list", "list keys, optionally of one API or subject", keysList},
		{"show", "show one key", keyByID("show",
			"Shows one key. The secret is never shown again.", (*client.Client).GetKey)},
		{"update", "change a key's settings", keysUpdate},
		{"rotate", "give a key a new secret; prints it once", keysRotate},
		{"revoke", "revoke a key for good", keyByID("revoke",
			"Revokes a key for good; it stops verifying at once.", (*client.Client).RevokeKey)},
		{"verify", "ask tokend whether a token may be used", keysVerify},
	}
}

// keyFlags are the settable fields of a key, shared by create and update.
type keyFlags struct {
	subject, name, refill, metadata string
	scopes, cidrs                   csvFlag
	rateLimits                      rateLimitsFlag
	ttl                             time.Duration
	expiresAt                       timeFlag
	credits                         int64
	disable, enable                 bool // --disabled on create, --disable/--enable on update
	noExpiry, noCredits             bool
	noCIDRs, noRateLimits           bool
}

func (f *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "human-readable `name`")
	fs.Var(&f.scopes, "scopes", "comma-separated `scopes`, a subset of the API's (repeatable)")
	durVar(fs, &f.ttl, "ttl", "lifetime from now, such as 24h or 30d")
	fs.Var(&f.expiresAt, "expires-at", "expiry `time` in RFC 3339, such as 2030-01-02T15:04:05Z")
	fs.Var(&f.cidrs, "cidr", "allowed client `CIDR`, such as 10.0.0.0/8 (repeatable)")
	fs.Var(&f.rateLimits, "ratelimit", "rate limit `name:limit:window`, such as default:100:1m (repeatable)")
	fs.Int64Var(&f.credits, "credits", 0, "usage credits; each verification spends its cost")
	fs.StringVar(&f.refill, "refill", "", "restore credits to `amount:interval`, such as 1000:24h (needs --credits)")
	fs.StringVar(&f.metadata, "metadata", "", "JSON `object` returned on verification, such as '{\"plan\":\"pro\"}'")
}

// check validates combinations that no single flag can.
func (f *keyFlags) check(set map[string]bool) error {
	switch {
	case set["ttl"] && set["expires-at"]:
		return fmt.Errorf("%w: give --ttl or --expires-at, not both", errUsage)
	case f.noExpiry && (set["ttl"] || set["expires-at"]):
		return fmt.Errorf("%w: --no-expiry conflicts with --ttl and --expires-at", errUsage)
	case set["ttl"] && f.ttl <= 0:
		return fmt.Errorf("%w: --ttl must be positive", errUsage)
	case set["refill"] && !set["credits"]:
		return fmt.Errorf("%w: --refill needs --credits", errUsage)
	case f.noCredits && set["credits"]:
		return fmt.Errorf("%w: --no-credits conflicts with --credits", errUsage)
	case f.enable && f.disable:
		return fmt.Errorf("%w: give --enable or --disable, not both", errUsage)
	case set["metadata"] && f.metadata != "null" && !json.Valid([]byte(f.metadata)):
		return fmt.Errorf("%w: --metadata is not valid JSON", errUsage)
	}
	return nil
}

// creditsValue returns the credits given by --credits and --refill.
func (f *keyFlags) creditsValue(set map[string]bool) (api.Credits, error) {
	c := api.Credits{Remaining: f.credits}
	if set["refill"] {
		r, err := parseRefill(f.refill)
		if err != nil {
			return c, fmt.Errorf("%w: %w", errUsage, err)
		}
		c.Refill = &r
	}
	return c, nil
}

func (f *keyFlags) createRequest(apiID string, set map[string]bool) (api.CreateKeyRequest, error) {
	req := api.CreateKeyRequest{
		APIID: apiID, Subject: f.subject, Name: f.name,
		Scopes: f.scopes, AllowedCIDRs: f.cidrs, RateLimits: f.rateLimits,
	}
	if set["ttl"] {
		ttl := api.Duration(f.ttl)
		req.TTL = &ttl
	}
	if set["expires-at"] {
		req.ExpiresAt = &f.expiresAt.t
	}
	if set["metadata"] {
		req.Metadata = json.RawMessage(f.metadata)
	}
	if f.disable {
		enabled := false
		req.Enabled = &enabled
	}
	if set["credits"] {
		cr, err := f.creditsValue(set)
		if err != nil {
			return req, err
		}
		req.Credits = &cr
	}
	return req, nil
}

func keysCreate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f keyFlags
	var apiID string
	fs := newFlagSet(c, "keys create", "keys create --api ID --subject S [flags]",
		"Issues a key and prints its secret, which is shown only this once.")
	f.register(fs)
	fs.StringVar(&apiID, "api", "", "`ID` of the API the key is for (required)")
	fs.StringVar(&f.subject, "subject", "", "`subject` the key acts for, such as a user or service ID (required)")
	fs.BoolVar(&f.disable, "disabled", false, "create the key disabled")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	if apiID == "" || f.subject == "" {
		return fmt.Errorf("%w: --api and --subject are required", errUsage)
	}
	set := setFlags(fs)
	if err := f.check(set); err != nil {
		return err
	}
	req, err := f.createRequest(apiID, set)
	if err != nil {
		return err
	}
	ck, err := cl.CreateKey(ctx, req)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return showCreatedKey(c, conn, ck)
}

func keysList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var opts client.ListKeysOptions
	var all bool
	fs := newFlagSet(c, "keys list", "keys list [--api ID] [--subject S] [--limit N] [--cursor C | --all]",
		"Lists keys, one page at a time unless --all is given.")
	fs.StringVar(&opts.APIID, "api", "", "only keys of the API with this `ID`")
	fs.StringVar(&opts.Subject, "subject", "", "only keys acting for this `subject`")
	fs.IntVar(&opts.Limit, "limit", 0, "page size (default: the server's)")
	fs.StringVar(&opts.Cursor, "cursor", "", "continue from this `cursor`, printed after a page")
	fs.BoolVar(&all, "all", false, "fetch every page")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	l, err := listKeys(ctx, cl, opts, all)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	if err := printKeys(c.stdout, l.Keys, c.now()); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(c.stderr, "more keys: continue with --cursor %s, or use --all\n", printable(l.NextCursor))
	}
	return nil
}

// listKeys fetches one page, or with all every page from opts.Cursor on.
func listKeys(ctx context.Context, cl *client.Client, opts client.ListKeysOptions, all bool) (*api.KeyList, error) {
	out := &api.KeyList{Keys: []api.Key{}}
	for {
		page, err := cl.ListKeys(ctx, opts)
		if err != nil {
			return nil, err
		}
		out.Keys = append(out.Keys, page.Keys...)
		out.NextCursor = page.NextCursor
		if !all || page.NextCursor == "" {
			return out, nil
		}
		opts.Cursor = page.NextCursor
	}
}

// keyByID is the shape of show and revoke: one key ID in, one key out.
func keyByID(name, help string, call func(cl *client.Client, ctx context.Context, id string) (*api.Key, error)) func(context.Context, *cmdIO, []string) error {
	return func(ctx context.Context, c *cmdIO, args []string) error {
		var conn connFlags
		fs := newFlagSet(c, "keys "+name, "keys "+name+" ID [--json]", help)
		conn.register(fs)
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if err := keyIDArgs(fs, pos); err != nil {
			return err
		}
		cl, err := conn.client(c)
		if err != nil {
			return err
		}
		k, err := call(cl, ctx, pos[0])
		if err != nil {
			return fmt.Errorf("%s key %s: %w", name, pos[0], err)
		}
		return showKey(c, conn, k)
	}
}

func keysRotate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var grace time.Duration
	fs := newFlagSet(c, "keys rotate", "keys rotate ID [--grace 24h]",
		"Gives a key a new secret, printed only this once. The old secret\nkeeps working for the grace period (at most 7d).")
	durVar(fs, &grace, "grace", "how long the old secret stays valid, such as 24h or 7d")
	conn.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := keyIDArgs(fs, pos); err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	if grace < 0 {
		return fmt.Errorf("%w: --grace must not be negative", errUsage)
	}
	ck, err := cl.RotateKey(ctx, pos[0], api.RotateKeyRequest{Grace: api.Duration(grace)})
	if err != nil {
		return fmt.Errorf("rotate key %s: %w", pos[0], err)
	}
	return showCreatedKey(c, conn, ck)
}

func showKey(c *cmdIO, conn connFlags, k *api.Key) error {
	if conn.json {
		return printJSON(c.stdout, k)
	}
	return printKey(c.stdout, k, c.now())
}

func showCreatedKey(c *cmdIO, conn connFlags, ck *api.CreatedKey) error {
	if conn.json {
		return printJSON(c.stdout, ck)
	}
	return printCreatedKey(c.stdout, ck, c.now())
}

// keyIDArgs checks that pos is one key ID. A key's secret or an API's ID
// in its place is refused before anything is sent: a secret must never
// travel in a URL (tokend would refuse it there anyway).
func keyIDArgs(fs *flag.FlagSet, pos []string) error {
	if err := wantArgs(fs, pos, 1, "one key ID"); err != nil {
		return err
	}
	id := pos[0]
	switch {
	case strings.HasPrefix(id, "key_"):
		return nil
	case strings.HasPrefix(id, "api_"):
		return fmt.Errorf("%w: %s is an API's ID; tokend %s takes a key's ID (key_…), "+
			"such as one from 'tokend keys list --api %s'", errUsage, id, fs.Name(), id)
	case looksLikeSecret(id):
		return fmt.Errorf("%w: that looks like a key's secret, not its ID; nothing was sent. tokend %s takes "+
			"the key's ID (key_…); to check a secret, pipe it to 'tokend keys verify -'", errUsage, fs.Name())
	}
	return nil
}

// looksLikeSecret reports a token shape: a lowercase prefix, "_", then a
// long body, where an ID would be key_ and 26 characters.
func looksLikeSecret(s string) bool {
	prefix, body, ok := strings.Cut(s, "_")
	return ok && prefix != "" && len(body) >= 32
}

// readToken reads a token from the first line of r.
func readToken(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 8<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read token from stdin: %w", err)
	}
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", fmt.Errorf("%w: no token on stdin", errUsage)
	}
	return tok, nil
}

func keysUpdate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f keyFlags
	fs := newFlagSet(c, "keys update", "keys update ID [flags]",
		"Changes the given settings of a key; others keep their value. List flags\n"+
			"(--scopes, --cidr, --ratelimit) replace the whole list. --metadata null\n"+
			"removes the metadata.")
	conn.register(fs)
	f.register(fs)
	f.registerUpdate(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := keyIDArgs(fs, pos); err != nil {
		return err
	}
	set := setFlags(fs)
	if err := f.check(set); err != nil {
		return err
	}
	req, err := f.updateRequest(set, c.now())
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	k, err := cl.UpdateKey(ctx, pos[0], req)
	if err != nil {
		return fmt.Errorf("update key %s: %w", pos[0], err)
	}
	return showKey(c, conn, k)
}

// registerUpdate adds the flags only update has.
func (f *keyFlags) registerUpdate(fs *flag.FlagSet) {
	fs.StringVar(&f.subject, "subject", "", "new `subject`")
	fs.BoolVar(&f.enable, "enable", false, "enable the key")
	fs.BoolVar(&f.disable, "disable", false, "disable the key; it stops verifying until enabled")
	fs.BoolVar(&f.noExpiry, "no-expiry", false, "remove the expiry")
	fs.BoolVar(&f.noCredits, "no-credits", false, "remove the credit limit")
	fs.BoolVar(&f.noCIDRs, "no-cidrs", false, "remove the IP allowlist")
	fs.BoolVar(&f.noRateLimits, "no-ratelimits", false, "remove the rate limits")
}

// updateRequest builds the PATCH body from the flags that were given. --ttl
// becomes an expiry counted from now.
func (f *keyFlags) updateRequest(set map[string]bool, now time.Time) (api.UpdateKeyRequest, error) {
	var req api.UpdateKeyRequest
	if set["subject"] {
		req.Subject = &f.subject
	}
	if set["name"] {
		req.Name = &f.name
	}
	if set["scopes"] {
		req.Scopes = (*[]string)(&f.scopes)
	}
	f.updateExpiry(&req, set, now)
	f.updateLists(&req, set)
	if set["credits"] {
		cr, err := f.creditsValue(set)
		if err != nil {
			return req, err
		}
		req.Credits = api.Some(cr)
	} else if f.noCredits {
		req.Credits = api.Null[api.Credits]()
	}
	if set["metadata"] {
		req.Metadata = json.RawMessage(f.metadata)
	}
	if f.enable || f.disable {
		enabled := f.enable
		req.Enabled = &enabled
	}
	if isEmptyUpdate(&req) {
		return req, fmt.Errorf("%w: nothing to update; give at least one flag", errUsage)
	}
	return req, nil
}

func (f *keyFlags) updateExpiry(req *api.UpdateKeyRequest, set map[string]bool, now time.Time) {
	switch {
	case set["ttl"]:
		req.ExpiresAt = api.Some(now.Add(f.ttl).UTC().Truncate(time.Second))
	case set["expires-at"]:
		req.ExpiresAt = api.Some(f.expiresAt.t)
	case f.noExpiry:
		req.ExpiresAt = api.Null[time.Time]()
	}
}

func (f *keyFlags) updateLists(req *api.UpdateKeyRequest, set map[string]bool) {
	switch {
	case set["cidr"]:
		req.AllowedCIDRs = (*[]string)(&f.cidrs)
	case f.noCIDRs:
		req.AllowedCIDRs = &[]string{}
	}
	switch {
	case set["ratelimit"]:
		req.RateLimits = (*[]api.RateLimit)(&f.rateLimits)
	case f.noRateLimits:
		req.RateLimits = &[]api.RateLimit{}
	}
}

func isEmptyUpdate(r *api.UpdateKeyRequest) bool {
	return r.Subject == nil && r.Name == nil && r.Scopes == nil && !r.ExpiresAt.Set &&
		r.AllowedCIDRs == nil && r.RateLimits == nil && !r.Credits.Set &&
		r.Metadata == nil && r.Enabled == nil
}

// verifyFlags are the questions "keys verify" asks about a token.
type verifyFlags struct {
	audience, ip string
	scopes       csvFlag
	cost         int64
}

func keysVerify(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f verifyFlags
	fs := newFlagSet(c, "keys verify", "keys verify [flags] - < token-file",
		"Asks tokend whether a token may be used, and exits 0 only if it may\n"+
			"(4 if tokend answers any code but VALID).\n"+
			"Pass \"-\" to read the token from stdin; a token given as an argument\n"+
			"lands in shell history and process lists.")
	conn.register(fs)
	fs.StringVar(&f.audience, "audience", "", "the `audience` the token must be for")
	fs.Var(&f.scopes, "scopes", "comma-separated `scopes` the token must have")
	fs.StringVar(&f.ip, "ip", "", "client `IP` to check against the key's allowlist")
	fs.Int64Var(&f.cost, "cost", 1, "credits the request spends")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, `one token, or "-" to read it from stdin`); err != nil {
		if setFlags(fs)["token"] {
			return fmt.Errorf("%w (--token is the admin key that calls tokend, not the token to check)", err)
		}
		return err
	}
	req, err := f.request(pos[0], c.stdin, setFlags(fs))
	if err != nil {
		return err
	}
	cl, err := conn.client(c)
	if err != nil {
		return err
	}
	res, err := cl.Verify(ctx, req)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := showVerify(c, conn, res); err != nil {
		return err
	}
	if !res.Valid {
		return fmt.Errorf("%w: %s", errNotValid, res.Code)
	}
	return nil
}

func (f *verifyFlags) request(arg string, stdin io.Reader, set map[string]bool) (api.VerifyRequest, error) {
	req := api.VerifyRequest{Token: arg, Audience: f.audience, Scopes: f.scopes, ClientIP: f.ip}
	if arg == "-" {
		tok, err := readToken(stdin)
		if err != nil {
			return req, err
		}
		req.Token = tok
	}
	if set["cost"] {
		if f.cost < 0 {
			return req, fmt.Errorf("%w: --cost must not be negative", errUsage)
		}
		req.Cost = &f.cost
	}
	return req, nil
}

func showVerify(c *cmdIO, conn connFlags, res *api.VerifyResponse) error {
	if conn.json {
		return printJSON(c.stdout, res)
	}
	return printVerify(c.stdout, res)
}
