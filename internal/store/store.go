package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Options configures [Open].
type Options struct {
	// Logger receives migration progress. Optional; nil discards.
	Logger *slog.Logger
}

// DB is tokend's database. Create one with [Open]; it is safe for
// concurrent use.
type DB struct {
	// w runs every write transaction. On SQLite it is a pool of one
	// connection, so writers queue in Go instead of contending for the
	// file lock; on PostgreSQL it is the only pool and r == w.
	w *sql.DB
	// r runs reads outside transactions.
	r *sql.DB
	// verify is the prepared KeyBySecretHash query, on r.
	verify *sql.Stmt
	d      dialect
	log    *slog.Logger
	// hub hands committed changes to subscribers (notify.go).
	hub hub
}

// sqlitePragmas apply to every SQLite connection. busy_timeout goes first so
// the others wait for locks rather than fail.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// Open connects to the database named by dsn and migrates it to the
// current schema. A dsn starting with postgres:// or postgresql:// selects
// PostgreSQL (any libpq-style parameters pgx accepts, such as sslmode or
// search_path, may follow); anything else is the path of a SQLite file,
// created if missing (its directory must exist). Two processes may Open the
// same database at once: migrations are serialized.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db.log = log
	if err := db.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s store: %w", db.d.name, err)
	}
	if db.d.name == "sqlite" {
		if err := ownerOnly(dsn, dsn+"-wal", dsn+"-shm"); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return db, nil
}

// ownerOnly makes each existing file mode 0600. SQLite creates the
// database at the umask (often 0644) and gives later -wal and -shm files
// the database's mode, so tightening here covers them all.
func ownerOnly(paths ...string) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("make %s readable by its owner only: %w", p, err)
			}
		}
	}
	return nil
}

func openSQLite(path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("invalid sqlite path %q", path)
	}
	w, err := sql.Open("sqlite", path+"?"+sqlitePragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	r, err := sql.Open("sqlite", path+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return &DB{w: w, r: r, d: newDialect("sqlite")}, nil
}

func openPostgres(dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(20)
	return &DB{w: p, r: p, d: newDialect("postgres")}, nil
}

// init checks the connection, migrates, and prepares the hot statements.
// The writer goes first: on SQLite it is the connection that turns on WAL.
func (db *DB) init(ctx context.Context) error {
	if err := db.pingWriter(ctx); err != nil {
		return err
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	stmt, err := db.r.PrepareContext(ctx, verifyQuery)
	if err != nil {
		return fmt.Errorf("prepare verify query: %w", err)
	}
	db.verify = stmt
	return nil
}

// pingWriter opens the writer connection. Two processes opening one new
// SQLite file at once race to turn on WAL, and SQLite answers the loser
// SQLITE_BUSY at once, without waiting out busy_timeout; that open is
// retried for up to five seconds.
func (db *DB) pingWriter(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := db.w.PingContext(ctx)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close releases the connections. Calls in flight may fail.
func (db *DB) Close() error {
	var errs []error
	if db.verify != nil {
		errs = append(errs, db.verify.Close())
	}
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// Ping reports whether the database answers, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s store: %w", db.d.name, err)
	}
	return nil
}

// Dialect reports the backend: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.d.name }

// write runs fn in one write transaction and commits it if fn returns nil.
// fn's error is returned as is.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
