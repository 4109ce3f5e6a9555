package server

import (
	"net/url"
	"testing"
)

func TestIsForm(t *testing.T) {
	for _, tt := range []struct {
		contentType string
		want        bool
	}{
		{"application/x-www-form-urlencoded", true},
		{"application/x-www-form-urlencoded; charset=UTF-8", true},
		{"Application/X-WWW-Form-Urlencoded", true},
		{"application/json", false},
		{"application/x-www-form-urlencoded-not", false},
		{"application/x-www-form-urlencoded; charset", false}, // malformed parameter
		{"", false},
	} {
		if got := isForm(tt.contentType); got != tt.want {
			t.Errorf("isForm(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}

// TestFormUnescape: the Basic id and secret decode as url.QueryUnescape
// decodes them, with or without anything to decode.
func TestFormUnescape(t *testing.T) {
	for _, s := range []string{"", "client_06h0mcvlnp2p1ld5e7dck0ovs0", "tkcs_abc-DEF_123", "a+b", "a%20b", "%3A%2F%25",
		"bad%", "bad%zz", "%e2%9c%93", "plus+and%2B"} {
		got, err := formUnescape(s)
		want, wantErr := url.QueryUnescape(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("formUnescape(%q) = %q, %v; want %q, %v", s, got, err, want, wantErr)
		}
	}
}
