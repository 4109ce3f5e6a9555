package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds migrations/<dialect>/NNNN_name.sql. Both dialects
// have the same file names; a file, once released, never changes.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("bad migration file name %s", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].version <= ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s are out of order", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.d.name)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, m := range ms {
		applied, err := db.migrateOne(ctx, m)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if applied {
			db.log.InfoContext(ctx, "applied migration", "dialect", db.d.name, "migration", m.name)
		}
	}
	return nil
}

// migrateOne applies m unless it is already recorded. On PostgreSQL it
// first takes an advisory lock, so nodes starting together apply each
// migration once; on SQLite the immediate transaction takes the write lock.
func (db *DB) migrateOne(ctx context.Context, m migration) (applied bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		if db.d.lockMigrations != "" {
			if _, err := tx.ExecContext(ctx, db.d.lockMigrations); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, db.d.createMigrations); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixMicro())
		applied = err == nil
		return err
	})
	return applied, err
}
