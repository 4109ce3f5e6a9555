package httpsig

import (
	"strconv"
	"strings"
)

// base builds the signature base of RFC 9421 §2.5 for the components
// covered, ending with the @signature-params line whose value is params.
// A covered component the request does not have is an *Error naming it.
func base(m *Message, components []string, params string) ([]byte, error) {
	var t target
	var b strings.Builder
	for _, c := range components {
		var v string
		if strings.HasPrefix(c, "@") {
			if t.u == nil {
				var err error
				if t, err = m.target(); err != nil {
					return nil, err
				}
			}
			var err error
			if v, err = derived(m, t, c); err != nil {
				return nil, err
			}
		} else {
			vals, ok := m.field(c)
			if !ok {
				return nil, Errorf(ReasonCoverage, "covered field %q is not in the request", c)
			}
			v = fieldValue(vals)
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, Errorf(ReasonMalformed, "component %q holds a line break", c)
		}
		b.WriteString(strconv.Quote(c))
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	b.WriteString(`"@signature-params": `)
	b.WriteString(params)
	return []byte(b.String()), nil
}

// derived returns the value of a derived component (§2.2).
func derived(m *Message, t target, c string) (string, error) {
	switch c {
	case "@method":
		return m.Method, nil
	case "@target-uri":
		return t.targetURI(), nil
	case "@authority":
		return t.authority(), nil
	case "@scheme":
		return strings.ToLower(t.u.Scheme), nil
	case "@path":
		return t.path(), nil
	case "@query":
		return t.query(), nil
	}
	return "", Errorf(ReasonCoverage, "derived component %q is not supported (use @method, @target-uri, @authority, @scheme, @path, @query)", c)
}

// fieldValue combines a field's lines as §2.1 says: each trimmed of
// surrounding space, joined by ", ".
func fieldValue(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Trim(v, " \t")
	}
	return strings.Join(out, ", ")
}
