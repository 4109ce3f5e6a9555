package oauth

import (
	"net/url"
	"strings"
)

// MaxFormBytes is the largest form body the OAuth endpoints read.
const MaxFormBytes = 64 << 10

// Form is a parsed application/x-www-form-urlencoded request body.
// Parameters sent without a value are treated as omitted (RFC 6749 §3.1).
type Form struct {
	values map[string][]string
}

// Get returns the value of the parameter name, or "".
func (f Form) Get(name string) string {
	if vs := f.values[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// All returns every value of a parameter that may repeat (resource).
func (f Form) All(name string) []string { return f.values[name] }

// Has reports whether the parameter name was sent with a value.
func (f Form) Has(name string) bool { return len(f.values[name]) > 0 }

// repeatable lists the parameters that may appear more than once:
// RFC 8707 §2 allows several resource parameters. Every other parameter
// must not be included more than once (RFC 6749 §3.1, §3.2).
var repeatable = map[string]bool{"resource": true}

// ParseForm parses body strictly: bad percent-encoding, a parameter
// without a name, a repeated parameter, a control character in a value
// or a body over MaxFormBytes is an invalid_request *Error.
func ParseForm(body []byte) (Form, error) {
	if len(body) > MaxFormBytes {
		return Form{}, invalidRequest("the body exceeds %d bytes", MaxFormBytes)
	}
	f := Form{values: make(map[string][]string, 8)}
	for pair := range strings.SplitSeq(string(body), "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		switch {
		case err1 != nil || err2 != nil:
			return Form{}, invalidRequest("the body is not valid application/x-www-form-urlencoded")
		case name == "":
			return Form{}, invalidRequest("the body has a parameter without a name")
		case hasControl(name) || hasControl(value):
			return Form{}, invalidRequest("parameter %s holds a control character", safeName(name))
		case value == "":
			continue
		case len(f.values[name]) > 0 && !repeatable[name]:
			return Form{}, invalidRequest("parameter %s is included more than once", safeName(name))
		}
		f.values[name] = append(f.values[name], value)
	}
	return f, nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// safeName quotes a parameter name for an error description, cut short
// and with anything unusual replaced, so that no secret or markup travels
// back in an error.
func safeName(name string) string {
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '?'
	}, name) + "\""
}
