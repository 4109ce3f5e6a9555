// Package valid checks request values that several domains share (scopes,
// CIDRs, rate limits, metadata) and reports a failure as an *Error whose
// text is safe to show the client: it names the field and the rule, never
// a secret. It does not know about HTTP; the server maps *Error to 400.
package valid

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error is a request value that breaks a rule. Its message is public.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

// Errorf returns an *Error for field.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Text checks a required (min 1) or optional (min 0) display string.
func Text(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		return Errorf(field, "must be valid UTF-8")
	case n < min:
		return Errorf(field, "is required")
	case n > max:
		return Errorf(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		// C0, DEL and C1 controls (U+009B CSI and U+009D OSC start
		// terminal escapes), and the bidi controls that reorder what a
		// terminal or page shows (U+202E and the like).
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return Errorf(field, "must not contain control or bidi formatting characters")
		}
	}
	return nil
}

// Scope checks one scope token (RFC 6749 §3.3: printable ASCII without
// space, '"' or '\'), at most 128 characters.
func Scope(field, s string) error {
	if s == "" || len(s) > 128 {
		return Errorf(field, "scope %q must be 1 to 128 characters", s)
	}
	for _, c := range s {
		switch {
		case c == ' ':
			return Errorf(field, "scope %q has a space, which RFC 6749 forbids in a scope; give each scope separately", s)
		case c < 0x21 || c > 0x7e || c == '"' || c == '\\':
			return Errorf(field, "scope %q has %q, which RFC 6749 forbids in a scope", s, c)
		}
	}
	return nil
}

// Scopes checks a list of at most 100 distinct scopes.
func Scopes(field string, ss []string) error {
	if len(ss) > 100 {
		return Errorf(field, "at most 100 scopes")
	}
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		if err := Scope(field, s); err != nil {
			return err
		}
		if seen[s] {
			return Errorf(field, "scope %q is listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

// Subset checks that every scope in ss is in allowed.
func Subset(field string, ss, allowed []string) error {
	for _, s := range ss {
		found := false
		for _, a := range allowed {
			found = found || a == s
		}
		if !found {
			return Errorf(field, "scope %q is not defined by the API", s)
		}
	}
	return nil
}

// CIDRs checks an allowlist of at most 100 IPv4 or IPv6 prefixes and
// returns them in canonical form (host bits cleared).
func CIDRs(field string, cs []string) ([]string, error) {
	if len(cs) > 100 {
		return nil, Errorf(field, "at most 100 CIDRs")
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, Errorf(field, "%q is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32", c)
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// Duration checks that d lies within [min, max] (max 0: no upper bound).
func Duration(field string, d, min, max time.Duration) error {
	if d < min || (max > 0 && d > max) {
		if max > 0 {
			return Errorf(field, "must be between %s and %s", min, max)
		}
		return Errorf(field, "must be at least %s", min)
	}
	return nil
}

// Metadata checks that raw is absent or a JSON object of at most 8 KiB.
func Metadata(field string, raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(raw) > 8<<10 {
		return Errorf(field, "must be at most 8 KiB")
	}
	if !utf8.Valid(raw) {
		return Errorf(field, "must be valid UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Errorf(field, "must be a JSON object")
	}
	return nil
}

// LimitName checks a rate limit's name: 1 to 64 of [a-z0-9_.-].
func LimitName(field, n string) error {
	if n == "" || len(n) > 64 {
		return Errorf(field, "name must be 1 to 64 characters")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return Errorf(field, "name %q may hold only a-z, 0-9, '_', '.' and '-'", n)
		}
	}
	return nil
}
