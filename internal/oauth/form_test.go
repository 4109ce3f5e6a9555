package oauth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	for _, tt := range []struct {
		body  string
		want  map[string]string
		error bool
	}{
		{"grant_type=client_credentials&scope=a+b", map[string]string{"grant_type": "client_credentials", "scope": "a b"}, false},
		{"a=1&&b=%20", map[string]string{"a": "1", "b": " "}, false},
		{"a=&a=1", map[string]string{"a": "1"}, false}, // empty values are omitted (RFC 6749 §3.1)
		{"resource=x&resource=y", map[string]string{"resource": "x"}, false},
		{"a=1&a=2", nil, true},
		{"a=%zz", nil, true},
		{"=1", nil, true},
		{"a=%0a", nil, true},
		{strings.Repeat("a", MaxFormBytes+1), nil, true},
	} {
		f, err := ParseForm([]byte(tt.body))
		if tt.error {
			if e, ok := errors.AsType[*Error](err); !ok || e.Code != ErrInvalidRequest || e.Status != 400 {
				t.Errorf("ParseForm(%.20q) = %v, want invalid_request", tt.body, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseForm(%q): %v", tt.body, err)
			continue
		}
		for k, v := range tt.want {
			if f.Get(k) != v {
				t.Errorf("ParseForm(%q).Get(%q) = %q, want %q", tt.body, k, f.Get(k), v)
			}
		}
	}
}

// FuzzTokenForm checks that the token-endpoint form parser never panics,
// answers only invalid_request errors,
// never echoes much of the input in an error, and agrees with net/url on the bodies both accept.
func FuzzTokenForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fa.example",
		"grant_type=refresh_token&refresh_token=tkrt_x&client_id=cli_1&client_secret=tkcs_y",
		"a=1&a=2", "%", "=", "&&&", "a=%zz", "a;b=c", "resource=a&resource=b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Code != ErrInvalidRequest || e.Status != 400 {
				t.Fatalf("ParseForm error %v is not invalid_request", err)
			}
			// Names are quoted cut short; values never appear.
			if len(e.Description) > 120 {
				t.Fatalf("error description %q is long enough to echo input", e.Description)
			}
			return
		}
		want, uerr := url.ParseQuery(string(body))
		if uerr != nil {
			return
		}
		for name, vs := range want {
			var nonEmpty []string
			for _, v := range vs {
				if v != "" {
					nonEmpty = append(nonEmpty, v)
				}
			}
			if len(nonEmpty) == 0 {
				if form.Has(name) {
					t.Fatalf("%q: empty parameter %q reported present", body, name)
				}
				continue
			}
			if form.Get(name) != nonEmpty[0] {
				t.Fatalf("%q: Get(%q) = %q, net/url says %q", body, name, form.Get(name), nonEmpty[0])
			}
		}
	})
}
