package main

import (
	"context"
	"fmt"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// runAdminKey runs "tokend admin-key create": it opens the store directly
// (creating it only with --init), mints a key of the built-in API and
// prints only the key, for automation.
func runAdminKey(ctx context.Context, args []string, c *cmdIO) error {
	const synopsis = "tokend admin-key create [--name N] [--scopes tokend:admin] [--data-dir D | --database URL] [--init]"
	switch {
	case len(args) == 0:
		return fmt.Errorf("%w: %s", errUsage, synopsis)
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help":
		fmt.Fprintf(c.stdout, "usage: %s\n\nRun 'tokend admin-key create -h' for its flags.\n", synopsis)
		return nil
	case args[0] != "create":
		return unknownCommand(args[0], "tokend admin-key", []string{"create"})
	}
	var cfg serveConfig
	var name string
	var init bool
	// No default inside the flag: a list flag appends, so a default there
	// would be kept beside what the user asked for.
	var scopes csvFlag
	fs := offlineFlagSet(c, "admin-key create",
		"Mints an admin key offline and prints only the key. --scopes tokend:verify makes a key that may only call /v1/verify.")
	str(fs, &cfg.dataDir, "data-dir", "./tokend-data", "directory of the embedded SQLite database")
	str(fs, &cfg.database, "database", "", "a postgres:// or postgresql:// URL to use PostgreSQL instead of SQLite")
	fs.BoolVar(&init, "init", false, "create the SQLite database in --data-dir if there is none (without it, a missing database is an error)")
	fs.StringVar(&name, "name", "admin key", "a name for people")
	fs.Var(&scopes, "scopes", "comma-separated: tokend:admin, tokend:verify (default tokend:admin)")
	if err := applyEnv(fs, c.env); err != nil {
		return err
	}
	if _, err := parseArgs(fs, args[1:]); err != nil {
		return err
	}
	if len(scopes) == 0 {
		scopes = csvFlag{apikey.ScopeAdmin}
	}
	if cfg.database == "" {
		if err := needDatabase(cfg.dataDir, init); err != nil {
			return err
		}
	}
	dsn, err := cfg.dsn()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	keys := apikey.NewService(apikey.Config{DB: db})
	if err := keys.EnsureSystemAPI(ctx); err != nil {
		return err
	}
	_, token, err := keys.CreateAdminKey(ctx, audit.Actor{ID: "cli"}, name, scopes)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, token)
	return nil
}
