package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFile is the name of the lock in a SQLite data directory.
const lockFile = "tokend.lock"

// errDataDirInUse: another process serves the data directory.
var errDataDirInUse = errors.New("data directory in use")

// dirLock is a held lock on a SQLite data directory; see lockDataDir.
type dirLock struct{ f *os.File }

// lockDataDir takes the data directory dir for this process, for as long
// as it lives: one SQLite database has one writer node, and a second
// "tokend serve" on it would keep answering from a cache that the first
// one's changes never reach. The lock is an OS file lock (flock) on
// dir/tokend.lock, which the kernel drops when the process ends however
// it ends, so a killed process never leaves a lock behind that blocks a
// restart. The file holds the holder's pid, for the error a second
// process gets.
func lockDataDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, inUse(dir, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return &dirLock{f: f}, nil
}

// inUse explains a lock held by another process, naming it if the lock
// file says which.
func inUse(dir, path string, err error) error {
	if !errors.Is(err, errLocked) {
		return fmt.Errorf("lock data directory: %w", err)
	}
	abs, aerr := filepath.Abs(dir)
	if aerr != nil {
		abs = dir
	}
	who := "another tokend serve"
	if b, rerr := os.ReadFile(path); rerr == nil {
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
			who += " (pid " + strconv.Itoa(pid) + ")"
		}
	}
	return fmt.Errorf("%w: %s already serves %s, and one SQLite data directory serves one process: stop it, or give this one its own --data-dir (several nodes share --database postgres://…)",
		errDataDirInUse, who, abs)
}

// release unlocks the directory; the lock file stays, harmlessly.
func (l *dirLock) release() {
	if l != nil {
		l.f.Close()
	}
}
