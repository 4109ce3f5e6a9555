package store

import (
	"crypto/rand"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSQLite runs the suite on a SQLite file per test.
func TestSQLite(t *testing.T) {
	runSuite(t, func(t testing.TB) string {
		return filepath.Join(t.TempDir(), "tokend.db")
	})
}

// TestPostgres runs the suite on PostgreSQL when TOKEND_TEST_POSTGRES holds
// a DSN, for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
// Each test gets its own schema, dropped afterwards.
func TestPostgres(t *testing.T) {
	base := os.Getenv("TOKEND_TEST_POSTGRES")
	if base == "" {
		t.Skip("TOKEND_TEST_POSTGRES is not set; skipping the PostgreSQL suite")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(t.Context()); err != nil {
		t.Fatalf("TOKEND_TEST_POSTGRES: %v", err)
	}
	runSuite(t, func(t testing.TB) string {
		t.Helper()
		schema := "t_" + strings.ToLower(rand.Text()[:16])
		if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	})
}

// TestMigrationFileSets checks that both dialects have the same migrations.
func TestMigrationFileSets(t *testing.T) {
	names := func(dialect string) []string {
		t.Helper()
		entries, err := fs.ReadDir(migrationFiles, "migrations/"+dialect)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	if len(sqlite) == 0 {
		t.Fatal("no migrations")
	}
	if diff := cmp.Diff(sqlite, postgres); diff != "" {
		t.Errorf("migration files differ (-sqlite +postgres):\n%s", diff)
	}
	for _, d := range []string{"sqlite", "postgres"} {
		if _, err := migrations(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// TestSQLiteSettings checks the connection pragmas and that verification
// is index lookups only.
func TestSQLiteSettings(t *testing.T) {
	db := openDSN(t, filepath.Join(t.TempDir(), "tokend.db"))
	ctx := t.Context()
	for _, c := range []struct {
		pool   *sql.DB
		pragma string
		want   string
	}{
		{db.w, "journal_mode", "wal"},
		{db.w, "foreign_keys", "1"},
		{db.w, "synchronous", "1"},
		{db.w, "busy_timeout", "5000"},
		{db.r, "busy_timeout", "5000"},
		{db.r, "query_only", "1"},
	} {
		var got string
		if err := c.pool.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+verifyQuery, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	steps := 0
	for rows.Next() {
		steps++
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(detail, "SEARCH") {
			t.Errorf("verify query plan step %q is not an index search", detail)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if steps != 4 { // key_secrets, keys, apis, users (of a personal access token)
		t.Errorf("verify query plan has %d steps, want 4", steps)
	}
}
