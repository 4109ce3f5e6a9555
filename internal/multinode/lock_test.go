package multinode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneServePerSQLiteDataDir runs "tokend serve" twice on one SQLite
// data directory: the second must refuse to start, naming the directory
// and the first process; and a first process killed with SIGKILL must
// not keep a restart from starting.
func TestOneServePerSQLiteDataDir(t *testing.T) {
	tokend := tokendBinary(t)
	dir := t.TempDir()
	first := mustStart(t, tokend, "--data-dir", dir)

	second, err := StartNode(t.Context(), tokend, "--data-dir", dir)
	if err == nil {
		second.Stop()
		t.Fatalf("a second serve on %s started beside the first (pid %d)", dir, first.PID())
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d", first.PID()), "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the second serve's error does not name %q:\n%v", want, err)
		}
	}

	first.Kill()
	if _, err := os.Stat(filepath.Join(dir, "tokend.lock")); err != nil {
		t.Fatalf("the killed process left no lock file to test the restart with: %v", err)
	}
	mustStart(t, tokend, "--data-dir", dir)
}

// mustStart starts a node, stopped when the test ends.
func mustStart(t *testing.T, tokend string, args ...string) *Node {
	t.Helper()
	n, err := StartNode(t.Context(), tokend, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}
