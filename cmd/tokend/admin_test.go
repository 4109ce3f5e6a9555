package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// TestAdminKeyCreateScopes: --scopes gives the key exactly the scopes
// asked for. It used to append to its default, so "--scopes
// tokend:verify" minted a full admin key and "--scopes tokend:admin"
// failed as listed twice.
func TestAdminKeyCreateScopes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"default", nil, []string{"tokend:admin"}},
		{"verify", []string{"--scopes", "tokend:verify"}, []string{"tokend:verify"}},
		{"admin", []string{"--scopes", "tokend:admin"}, []string{"tokend:admin"}},
		{"both", []string{"--scopes", "tokend:admin,tokend:verify"}, []string{"tokend:admin", "tokend:verify"}},
		{"repeated", []string{"--scopes", "tokend:verify", "--scopes", "tokend:admin"}, []string{"tokend:verify", "tokend:admin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"admin-key", "create", "--data-dir", dir, "--init"}, tc.args...)
			token := strings.TrimSpace(cli(t, "", "", 0, args...))
			db, err := store.Open(t.Context(), filepath.Join(dir, "tokend.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rec, err := db.KeyBySecretHash(t.Context(), credential.Hash(token))
			if err != nil {
				t.Fatalf("the printed key is not stored: %v", err)
			}
			if !slices.Equal(rec.Key.Scopes, tc.want) {
				t.Errorf("tokend %s: key scopes %q, want %q", strings.Join(args, " "), rec.Key.Scopes, tc.want)
			}
		})
	}
}
