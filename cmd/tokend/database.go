package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// checkDatabaseURL accepts only a PostgreSQL URL: SQLite is chosen by
// leaving --database out and setting --data-dir, so that a typo (mysql://,
// a path, postgres// without the colon) is refused rather than opened as a
// new SQLite file. The message never repeats a password.
func checkDatabaseURL(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return nil
	}
	shown := "the value"
	if err == nil && u.Scheme != "" {
		shown = fmt.Sprintf("a %s:// URL", u.Scheme)
	}
	return fmt.Errorf("%w: --database takes a postgres:// or postgresql:// URL, and %s is not one; "+
		"for the embedded SQLite database leave --database out and give its directory as --data-dir", errUsage, shown)
}

// errNoDatabase is the refusal of an offline command to invent a database.
var errNoDatabase = errors.New("no tokend database")

// needDatabase refuses a data directory that holds no database, unless
// init asks for a new one: a command run from the wrong directory must not
// quietly create an empty database there.
func needDatabase(dataDir string, init bool) error {
	path := filepath.Join(dataDir, "tokend.db")
	_, err := os.Stat(path)
	switch {
	case err == nil, init:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w at %s: is --data-dir the directory 'tokend serve' uses "+
			"(or --database its PostgreSQL URL)? Pass --init to create a new, empty database there", errNoDatabase, path)
	}
	return fmt.Errorf("%s: %w", path, err)
}
