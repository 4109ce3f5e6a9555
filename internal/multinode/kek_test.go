package multinode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokend/tokend/internal/seal"
)

// kekFile writes a key-encryption key for the signing keys, which every
// node on one PostgreSQL database must share, and returns its path.
func kekFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := os.WriteFile(path, []byte(seal.NewKEK()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
