//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import (
	"errors"
	"os"
)

// errLocked: the file is locked by another process.
var errLocked = errors.New("locked")

// flock does nothing where flock(2) is missing: there, nothing stops a
// second process on one data directory.
func flock(*os.File) error { return nil }
