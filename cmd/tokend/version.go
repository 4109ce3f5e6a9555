package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3". When
// it is empty, the module version recorded by "go install" is used.
var version = ""

// versionString is the line "tokend version" prints: the version, the VCS
// revision the binary was built from when known, and the Go version.
func versionString() string {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		rev = revision(bi.Settings)
	}
	if v == "" {
		v = "(devel)"
	}
	s := "tokend " + v
	if rev != "" && !strings.Contains(v, rev) {
		s += " (" + rev + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// revision is the short VCS revision, marked "-dirty" when the tree had
// uncommitted changes.
func revision(settings []debug.BuildSetting) string {
	var rev, dirty string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
