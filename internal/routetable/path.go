package routetable

import (
	"errors"
	"path"
	"strings"
)

// ErrAmbiguousPath is returned for a request path that could be read in
// more than one way; it is answered 400 and reaches no route.
var ErrAmbiguousPath = errors.New("the request path is ambiguous: encoded slash, backslash, percent sign or unreserved character, NUL or control character, or a \"..;\" segment")

// ErrNotCanonical is returned by ExactPath for a path that cleaning would
// change (dot segments, repeated slashes).
var ErrNotCanonical = errors.New("the request path is not canonical: it has dot segments or repeated slashes")

// CleanPath turns the escaped path of a request (as sent, without the
// query) into the canonical path routes are matched on, and that the
// gateway forwards: percent-decoded once, dot segments resolved, repeated
// slashes collapsed, a trailing slash kept. It refuses with
// ErrAmbiguousPath what could be decoded differently by the next hop.
func CleanPath(escaped string) (string, error) {
	dec, err := decode(escaped)
	if err != nil {
		return "", err
	}
	clean := path.Clean(dec)
	if clean != "/" && strings.HasSuffix(dec, "/") {
		clean += "/"
	}
	return clean, nil
}

// ExactPath is CleanPath for forward-auth, where tokend cannot change
// the path the upstream sees: a path that cleaning would change is
// refused with ErrNotCanonical rather than checked under another name.
// A trailing slash is dropped from the answer, as Match expects either.
func ExactPath(escaped string) (string, error) {
	dec, err := decode(escaped)
	if err != nil {
		return "", err
	}
	trimmed := dec
	if len(trimmed) > 1 {
		trimmed = strings.TrimSuffix(trimmed, "/")
	}
	if path.Clean(dec) != trimmed {
		return "", ErrNotCanonical
	}
	return trimmed, nil
}

// decode percent-decodes an escaped path once, refusing every encoding
// whose meaning depends on who decodes it.
func decode(escaped string) (string, error) {
	if escaped == "" {
		return "/", nil
	}
	if escaped[0] != '/' {
		return "", ErrAmbiguousPath
	}
	var b strings.Builder
	b.Grow(len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' {
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", ErrAmbiguousPath
			}
			c = unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			// An encoded "/", "\", "%" or unreserved character means
			// something else to a server that decodes again or not at all.
			if c == '/' || c == '\\' || c == '%' || unreserved(c) {
				return "", ErrAmbiguousPath
			}
			i += 2
		}
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", ErrAmbiguousPath
		}
		b.WriteByte(c)
	}
	dec := b.String()
	// "..;" and ".;" are dot segments to servers that drop path
	// parameters (Tomcat, Jetty).
	for seg := range strings.SplitSeq(dec, "/") {
		if strings.HasPrefix(seg, "..;") || strings.HasPrefix(seg, ".;") {
			return "", ErrAmbiguousPath
		}
	}
	return dec, nil
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
