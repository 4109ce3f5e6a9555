package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

func userCommands() []command {
	return []command{
		{"create", "create a user; prints a one-time set-password link (offline with --data-dir or --database)", usersCreate},
		{"list", "list users", usersList},
		{"show", "show one user", usersShow},
		{"update", "change a user's profile, groups, admin role or enabled state", usersUpdate},
		{"disable", "stop a user from signing in", usersDisable},
		{"delete", "delete a user", usersDelete},
		{"password-link", "make a new one-time set-password link for a user", usersPasswordLink},
		{"reset-mfa", "remove every second factor of a user who lost theirs", usersResetMFA},
	}
}

// userFlags are the settable fields of a user.
type userFlags struct {
	username, email, displayName string
	groups                       csvFlag
	admin, enabled               bool
}

func (f *userFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.username, "username", "", "the `name` the person signs in with (unique in any case)")
	fs.StringVar(&f.email, "email", "", "mail `address`")
	fs.StringVar(&f.displayName, "display-name", "", "full `name`")
	fs.Var(&f.groups, "groups", "comma-separated `groups` (repeatable)")
	fs.BoolVar(&f.admin, "admin", false, "give the user the tokend:admin role")
}

func usersCreate(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var f userFlags
	var cfg serveConfig
	var init bool
	fs := newFlagSet(c, "users create", "users create --username U [--admin] [flags] [--data-dir D | --database URL]",
		"Creates a user and prints a one-time set-password link (a tksp_ token, valid 24 hours) to hand to the person. "+
			"With --data-dir or --database it works offline on the database, like admin-key create, to make the first admin.")
	conn.register(fs)
	f.register(fs)
	str(fs, &cfg.dataDir, "data-dir", "./tokend-data", "work offline on the embedded SQLite database in this directory")
	str(fs, &cfg.database, "database", "", "work offline on this postgres:// or postgresql:// database")
	fs.BoolVar(&init, "init", false, "offline: create the SQLite database in --data-dir if there is none")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, "no arguments"); err != nil {
		return err
	}
	if f.username == "" {
		return fmt.Errorf("%w: --username is required", errUsage)
	}
	req := api.CreateUserRequest{Username: f.username, Email: f.email, DisplayName: f.displayName, Groups: f.groups, Admin: f.admin}
	var created *api.CreatedUser
	if set := setFlags(fs); set["data-dir"] || set["database"] {
		created, err = createUserOffline(ctx, cfg, init, req)
	} else {
		created, err = createUserOnline(ctx, c, conn, req)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, created)
	}
	if err := printUser(c.stdout, &created.User); err != nil {
		return err
	}
	printLink(c, conn, created.PasswordLink)
	return nil
}

func createUserOnline(ctx context.Context, c *cmdIO, conn connFlags, req api.CreateUserRequest) (*api.CreatedUser, error) {
	cl, err := conn.client(c)
	if err != nil {
		return nil, err
	}
	return cl.CreateUser(ctx, req)
}

// createUserOffline opens the store directly (creating it only with
// init), as admin-key create does.
func createUserOffline(ctx context.Context, cfg serveConfig, init bool, req api.CreateUserRequest) (*api.CreatedUser, error) {
	if cfg.database == "" {
		if err := needDatabase(cfg.dataDir, init); err != nil {
			return nil, err
		}
	}
	dsn, err := cfg.dsn()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	u, err := user.New(user.Config{DB: db}).Create(ctx, audit.Actor{ID: "cli"}, req)
	if errors.Is(err, store.ErrConflict) {
		// As the server answers it: a 409 (exit 4) that names the
		// username, not the database's constraint.
		return nil, &api.Problem{Type: api.ProblemTypeBase + api.ErrConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: "another user has this username (usernames are unique in any case)", Field: "username"}
	}
	return &u, err
}

// printLink prints a set-password link as the page the person opens:
// the token rides in the URL fragment, which the browser never sends, so
// that it reaches no server log. The address is tokend's as --url or
// $TOKEND_URL name it (offline too, where no server was called).
func printLink(c *cmdIO, conn connFlags, l *api.PasswordLink) {
	if l == nil {
		return
	}
	base, err := baseURL(conn.url, c.env("TOKEND_URL"))
	if err != nil {
		base = defaultURL
	}
	w := c.stdout
	fmt.Fprintf(w, "\nset-password token (shown once, works once, until %s):\n\n    %s\n\n", when(l.ExpiresAt), l.Token)
	fmt.Fprintf(w, "The person opens this link in a browser and chooses their password there:\n\n    %s/set-password#%s\n\n",
		strings.TrimSuffix(base, "/"), l.Token)
	fmt.Fprintf(w, "(a program may send the token with POST /v1/users/set-password instead; see docs/api.md).\n")
}

func usersList(ctx context.Context, c *cmdIO, args []string) error {
	var conn connFlags
	var opts struct{ prefix, group, enabled, cursor string }
	var limit int
	fs := newFlagSet(c, "users list", "users list [--username-prefix P] [--group G] [--enabled true|false] [--json]", "Lists users.")
	fs.StringVar(&opts.prefix, "username-prefix", "", "only usernames starting with this `prefix`, in any case")
	fs.StringVar(&opts.group, "group", "", "only members of this `group`")
	fs.StringVar(&opts.enabled, "enabled", "", "only enabled (true) or disabled (false) users")
	fs.StringVar(&opts.cursor, "cursor", "", "start after this `cursor` (next_cursor of the previous page)")
	fs.IntVar(&limit, "limit", 0, "page size, 1 to 500 (default 50)")
	_, cl, err := connect(c, fs, &conn, args, 0, "no arguments")
	if err != nil {
		return err
	}
	lo := userListOptions(opts.prefix, opts.group, opts.cursor, limit)
	switch opts.enabled {
	case "":
	case "true", "false":
		on := opts.enabled == "true"
		lo.Enabled = &on
	default:
		return fmt.Errorf("%w: --enabled must be true or false", errUsage)
	}
	l, err := cl.ListUsers(ctx, lo)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if conn.json {
		return printJSON(c.stdout, l)
	}
	t := newTable(c.stdout)
	t.row("ID", "USERNAME", "EMAIL", "GROUPS", "ADMIN", "ENABLED", "SOURCE")
	for _, u := range l.Users {
		t.row(u.ID, u.Username, u.Email, strings.Join(u.Groups, ","), fmt.Sprint(u.Admin), fmt.Sprint(u.Enabled), u.Source)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if l.NextCursor != "" {
		fmt.Fprintf(c.stdout, "\nmore: --cursor %s\n", l.NextCursor)
	}
	return nil
}
