package oauth

import (
	"net/url"
	"strings"
)

// MaxFormBytes is the largest form body the OAuth endpoints read.
const MaxFormBytes = 64 << 10

// Form is a parsed application/x-www-form-urlencoded request body.
// Parameters sent without a value are treated as omitted (RFC 6749 §3.1).
// Every parameter but the repeatable ones has one value, so values maps
// a name to it; only a repeatable parameter costs a slice.
type Form struct {
	values map[string]string
	multi  map[string][]string // the repeatable parameters
}

// Get returns the value of the parameter name (the first, for a
// repeatable one), or "".
func (f Form) Get(name string) string {
	if repeatable(name) {
		if vs := f.multi[name]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	return f.values[name]
}

// All returns every value of a parameter that may repeat (resource).
func (f Form) All(name string) []string {
	if !repeatable(name) {
		if v, ok := f.values[name]; ok {
			return []string{v}
		}
		return nil
	}
	return f.multi[name]
}

// Has reports whether the parameter name was sent with a value.
func (f Form) Has(name string) bool { return f.Get(name) != "" }

// repeatable reports the parameters that may appear more than once:
// RFC 8707 §2 allows several resource parameters. Every other parameter
// must not be included more than once (RFC 6749 §3.1, §3.2).
func repeatable(name string) bool { return name == "resource" }

// ParseForm parses body strictly: bad percent-encoding, a parameter
// without a name, a repeated parameter, a control character in a value
// or a body over MaxFormBytes is an invalid_request *Error. The form
// keeps no reference to body, which the caller may reuse.
func ParseForm(body []byte) (Form, error) {
	if len(body) > MaxFormBytes {
		return Form{}, invalidRequest("the body exceeds %d bytes", MaxFormBytes)
	}
	f := Form{values: make(map[string]string, 8)}
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
		case repeatable(name):
			if f.multi == nil {
				f.multi = make(map[string][]string, 1)
			}
			f.multi[name] = append(f.multi[name], value)
			continue
		}
		if _, dup := f.values[name]; dup {
			return Form{}, invalidRequest("parameter %s is included more than once", safeName(name))
		}
		f.values[name] = value
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
