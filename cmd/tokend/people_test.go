package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadSessionSettings: a bad session or second-factor
// setting stops the start with exit 2 and a message naming the flag.
func TestServeRefusesBadSessionSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown policy", []string{"--mfa-required", "sometimes"}, nil, "--mfa-required is admins, everyone or off"},
		{"policy from the environment", nil, map[string]string{"TOKEND_MFA_REQUIRED": "all"}, `not "all"`},
		{"idle longer than max", []string{"--session-idle", "48h", "--session-max", "24h"}, nil, "--session-idle (48h0m0s) is longer than --session-max"},
		{"negative idle", []string{"--session-idle", "-1h"}, nil, "must be positive"},
		{"zero check interval", []string{"--ldap-check-interval", "0s"}, nil, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "d")}, tc.args...)
			code, _, stderr := runTokend(t, tc.env, args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
