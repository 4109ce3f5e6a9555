package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secureDataDir creates the data directory with mode 0700, or tightens an
// existing one (systemd's StateDirectory= and hand-made /var/lib
// directories are 0755) together with the files tokend keeps there (the
// database, its -wal and -shm, the generated kek), which it makes 0600.
// store.Open tightens the database files it creates. An owner who cannot
// chmod gets an error that says what to do, rather than a readable store.
func secureDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	paths := []string{dir}
	for _, f := range []string{"tokend.db", "tokend.db-wal", "tokend.db-shm", "kek"} {
		paths = append(paths, filepath.Join(dir, f))
	}
	for i, p := range paths {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		want := fs.FileMode(0o600)
		if i == 0 {
			want = 0o700
		}
		if st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, want); err != nil {
			return fmt.Errorf("%s is readable by other users and cannot be made mode %04o (%w); "+
				"chmod it yourself or run tokend as its owner", p, want, err)
		}
	}
	return nil
}
