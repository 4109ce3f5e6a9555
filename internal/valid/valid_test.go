package valid

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	bad := map[string]error{
		"empty text":       Text("name", "", 1, 10),
		"long text":        Text("name", strings.Repeat("x", 11), 1, 10),
		"control":          Text("name", "a\nb", 1, 10),
		"C1 control CSI":   Text("name", "a\u009bb", 1, 10),
		"bidi override":    Text("name", "a\u202eb", 1, 10),
		"bidi isolate":     Text("name", "a\u2067b", 1, 10),
		"scope space":      Scopes("scopes", []string{"read write"}),
		"scope quote":      Scopes("scopes", []string{`a"b`}),
		"scope duplicate":  Scopes("scopes", []string{"a", "a"}),
		"scope empty":      Scopes("scopes", []string{""}),
		"not subset":       Subset("scopes", []string{"admin"}, []string{"read"}),
		"short duration":   Duration("ttl", time.Millisecond, time.Second, 0),
		"long duration":    Duration("grace", 8*24*time.Hour, 0, 7*24*time.Hour),
		"metadata array":   Metadata("metadata", json.RawMessage(`[1]`)),
		"metadata big":     Metadata("metadata", json.RawMessage(`{"a":"`+strings.Repeat("x", 8<<10)+`"}`)),
		"limit name upper": LimitName("ratelimits", "Minute"),
	}
	for name, err := range bad {
		var ve *Error
		if !errors.As(err, &ve) || ve.Field == "" || ve.Reason == "" {
			t.Errorf("%s: got %v, want a *valid.Error", name, err)
		}
	}
	good := []error{
		Text("name", "héllo", 1, 10), Scopes("scopes", []string{"read:items", "write"}),
		Subset("scopes", []string{"a"}, []string{"a", "b"}), Duration("ttl", time.Hour, time.Second, 0),
		Metadata("metadata", json.RawMessage(`{"plan":"pro"}`)), Metadata("metadata", nil), LimitName("r", "per-min.1_x"),
	}
	for i, err := range good {
		if err != nil {
			t.Errorf("good[%d] = %v", i, err)
		}
	}
}

func TestCIDRs(t *testing.T) {
	got, err := CIDRs("allowed_cidrs", []string{"10.1.2.3/8", "2001:db8::1/32", "192.0.2.7/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("CIDRs = %v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.0/33", "example.com/8", ""} {
		if _, err := CIDRs("allowed_cidrs", []string{bad}); err == nil {
			t.Errorf("CIDRs(%q) accepted", bad)
		}
	}
}

// TestScopeErrorNamesTheForbiddenCharacter gives scopes with a character
// RFC 6749 forbids: the error names that character, so "a b" tells the
// user that the space is the problem (walk-through M11b).
func TestScopeErrorNamesTheForbiddenCharacter(t *testing.T) {
	tests := []struct {
		scope, want string
	}{
		{"invoices:read invoices:write", `scope "invoices:read invoices:write" has a space, which RFC 6749 forbids in a scope; give each scope separately`},
		{`a"b`, `scope "a\"b" has '"', which RFC 6749 forbids in a scope`},
		{"a\tb", `scope "a\tb" has '\t', which RFC 6749 forbids in a scope`},
		{"réad", `scope "réad" has 'é', which RFC 6749 forbids in a scope`},
	}
	for _, tt := range tests {
		err := Scope("scopes", tt.scope)
		if err == nil {
			t.Errorf("Scope(%q) = nil, want an error", tt.scope)
			continue
		}
		if got := err.Error(); got != "scopes: "+tt.want {
			t.Errorf("Scope(%q):\n got %s\nwant scopes: %s", tt.scope, got, tt.want)
		}
	}
}
