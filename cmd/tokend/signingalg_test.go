package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadSigningAlg: an unknown --signing-alg (or
// $TOKEND_SIGNING_ALG) is a usage error (exit 2) found before anything
// starts, as the other flag values are: no data directory, key or
// database is made for a start that cannot happen.
func TestServeRefusesBadSigningAlg(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--signing-alg", "HS256"}, nil},
		{nil, map[string]string{"TOKEND_SIGNING_ALG": "none"}},
	} {
		dir := filepath.Join(t.TempDir(), "d")
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, tc.args...)
		code, _, stderr := runTokend(t, tc.env, args...)
		if code != 2 || !strings.Contains(stderr, "--signing-alg") {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 2 naming --signing-alg", tc.args, tc.env, code, stderr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%v %v: the data directory was made (%v)", tc.args, tc.env, err)
		}
	}
}
