package server_test

import (
	"testing"

	"github.com/tokend/tokend/api"
)

// TestAPIsCannotBorrowTokendNames: an API may not give its keys a prefix
// that is, or starts with, one of tokend's own (its keys would read as
// admin keys or OAuth tokens to people and secret scanners), nor define a
// "tokend:" scope (review item I10). Ordinary prefixes and scopes that
// merely contain the letters still work.
func TestAPIsCannotBorrowTokendNames(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	refused := []api.CreateAPIRequest{
		{KeyPrefix: "tokend"}, {KeyPrefix: "tokend_x"}, {KeyPrefix: "tokendx"},
		{KeyPrefix: "tkat"}, {KeyPrefix: "tkat_x"}, {KeyPrefix: "tkrt_live"}, {KeyPrefix: "tkcs"},
		{KeyPrefix: "tkrg1"}, {KeyPrefix: "tkpt"}, {KeyPrefix: "tkss_a"}, {KeyPrefix: "tkia"}, {KeyPrefix: "tksp1"},
		{KeyPrefix: "ok", Scopes: []string{"read", "tokend:admin"}},
		{KeyPrefix: "ok", Scopes: []string{"tokend:verify"}},
		{KeyPrefix: "ok", Scopes: []string{"tokend:anything"}},
	}
	for i, req := range refused {
		req.Name, req.Audience = "borrow", "https://borrow.example/"+string(rune('a'+i))
		if _, err := f.Client.CreateAPI(ctx, req); problemCode(err) != api.ErrInvalidField {
			t.Errorf("CreateAPI(prefix %q, scopes %q) = %v, want %s", req.KeyPrefix, req.Scopes, err, api.ErrInvalidField)
		}
	}
	if _, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Scopes: &[]string{"read", "tokend:admin"}}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("UpdateAPI(scopes with tokend:admin) = %v, want %s", err, api.ErrInvalidField)
	}
	for i, p := range []string{"tk", "tka", "my_tokend", "at_tkat"} {
		req := api.CreateAPIRequest{Name: "fine", Audience: "https://fine.example/" + string(rune('a'+i)), KeyPrefix: p,
			Scopes: []string{"tokend_read", "admin:tokend"}}
		if _, err := f.Client.CreateAPI(ctx, req); err != nil {
			t.Errorf("CreateAPI(prefix %q) = %v, want success", p, err)
		}
	}
}
