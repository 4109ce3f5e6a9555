package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds what differs between SQLite and PostgreSQL. Statements
// shared by both use $N placeholders, which both drivers bind by position.
// A statement that differs is written out here once per dialect.
type dialect struct {
	name string
	// createMigrations creates the migration bookkeeping table.
	createMigrations string
	// lockMigrations, if set, is run first in every migration transaction.
	lockMigrations string
	// apiForUpdate, keyForUpdate and creditsForUpdate load one row ($1: id)
	// inside a write transaction, locking it where the dialect can. SQLite
	// has no row locks; its single writer connection serializes writes.
	apiForUpdate     string
	keyForUpdate     string
	creditsForUpdate string
	userForUpdate    string
	// userInGroup is the condition that the JSON array u.groups holds
	// the name bound to $?.
	userInGroup string
	// skipLocked ends the subquery that picks webhook deliveries to
	// claim: PostgreSQL skips rows another node is claiming.
	skipLocked string
}

// migrationLockID is the pg_advisory_xact_lock key of tokend migrations.
const migrationLockID = "7346916150231846491"

func newDialect(name string) dialect {
	switch name {
	case "sqlite":
		return dialect{
			name: name,
			createMigrations: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`,
			apiForUpdate:     `SELECT ` + apiCols + ` FROM apis WHERE id = $1`,
			keyForUpdate:     `SELECT ` + keyCols + ` FROM keys k WHERE k.id = $1`,
			creditsForUpdate: creditsQuery,
			userForUpdate:    `SELECT ` + userCols + ` FROM users u WHERE u.id = $1`,
			userInGroup:      `EXISTS (SELECT 1 FROM json_each(u.groups) WHERE value = $?)`,
		}
	case "postgres":
		return dialect{
			name: name,
			createMigrations: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`,
			lockMigrations:   `SELECT pg_advisory_xact_lock(` + migrationLockID + `)`,
			apiForUpdate:     `SELECT ` + apiCols + ` FROM apis WHERE id = $1 FOR UPDATE`,
			keyForUpdate:     `SELECT ` + keyCols + ` FROM keys k WHERE k.id = $1 FOR UPDATE`,
			creditsForUpdate: creditsQuery + ` FOR UPDATE`,
			userForUpdate:    `SELECT ` + userCols + ` FROM users u WHERE u.id = $1 FOR UPDATE`,
			userInGroup:      `u.groups::jsonb ? $?`,
			skipLocked:       ` FOR UPDATE SKIP LOCKED`,
		}
	}
	panic("store: unknown dialect " + name)
}

// isUniqueViolation reports whether err is a unique or primary key
// constraint failure, in either driver.
func isUniqueViolation(err error) bool {
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return e.Code == "23505" // unique_violation
	}
	return false
}

// ConflictColumn names the unique column an ErrConflict is about:
// "audience" or "key_prefix" of an API, "username" of a user (unique in
// any case), else "" (an id). It reads the constraint the driver
// reports, never a value.
func ConflictColumn(err error) string {
	var where string
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		where = e.Error() // "UNIQUE constraint failed: apis.audience"
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		where = e.TableName + "." + e.ConstraintName // "apis.apis_audience_key"
	}
	for _, col := range []string{"audience", "key_prefix"} {
		if strings.Contains(where, "apis."+col) || strings.Contains(where, "apis_"+col) {
			return col
		}
	}
	if strings.Contains(where, "users.username_key") || strings.Contains(where, "users_username_key") {
		return "username"
	}
	return ""
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	e, ok := errors.AsType[*sqlite.Error](err)
	return ok && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isForeignKeyViolation reports whether err is a foreign key constraint
// failure, in either driver.
func isForeignKeyViolation(err error) bool {
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return e.Code == "23503" // foreign_key_violation
	}
	return false
}
