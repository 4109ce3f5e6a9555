package server

import "testing"

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
