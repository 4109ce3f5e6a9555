package dpop

import (
	"net/url"
	"strings"
)

// SameURI reports whether htu, a proof's claim, names the request URL
// u (RFC 9449 §4.3 step 9): both absolute http(s) URLs, compared
// without query and fragment, after the syntax- and scheme-based
// normalization of RFC 3986 §6.2.2 and §6.2.3 (case of scheme and host,
// default port, empty path as "/", percent-encoding case).
func SameURI(htu, u string) bool {
	a, ok1 := normalize(htu)
	b, ok2 := normalize(u)
	return ok1 && ok2 && a == b
}

func normalize(raw string) (string, bool) {
	p, err := url.Parse(raw)
	if err != nil || p.Host == "" || p.User != nil || p.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(p.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(p.Hostname())
	if port := p.Port(); port != "" && !(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host += ":" + port
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	path := p.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + upperEscapes(path), true
}

// upperEscapes writes percent-encodings in upper case (RFC 3986 §6.2.2.1).
func upperEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = upper(b[i+1]), upper(b[i+2])
		}
	}
	return string(b)
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
