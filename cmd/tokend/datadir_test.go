package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataDirOwnerOnly is the L11 regression: a data directory that
// existed beforehand (0755, as systemd's StateDirectory= makes it) was
// kept as is, and the database, -wal and -shm were created at the umask
// (0644). Whether or not the directory existed, and even when an older
// version left files readable by others, after a start the directory is
// 0700 and every file tokend keeps there is 0600.
func TestDataDirOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022) // the common default, under which the bug showed
	t.Cleanup(func() { syscall.Umask(old) })
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"created by tokend", func(t *testing.T, dir string) {}},
		{"existing 0755", func(t *testing.T, dir string) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"existing 0755 with files 0644 from an earlier start", func(t *testing.T, dir string) {
			_, _, _, stop := startServe(t, dir)
			stop()
			for _, p := range []string{dir, filepath.Join(dir, "tokend.db"), filepath.Join(dir, "kek")} {
				os.Chmod(p, 0o755)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			tt.prepare(t, dir)
			startServe(t, dir)
			want := map[string]fs.FileMode{"": 0o700, "tokend.db": 0o600, "tokend.db-wal": 0o600,
				"tokend.db-shm": 0o600, "kek": 0o600}
			for name, mode := range want {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if got := st.Mode().Perm(); got != mode {
					t.Errorf("%s/%s is %04o, want %04o", filepath.Base(dir), name, got, mode)
				}
			}
		})
	}
}
