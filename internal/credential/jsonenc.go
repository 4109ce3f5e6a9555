package credential

import (
	"strconv"
	"unicode/utf8"
)

// The token endpoint writes the same few small JSON objects on every
// request: the access-token claims and the token answer. Appending them
// by hand costs a tenth of encoding/json's reflection and allocates
// nothing; the bytes are exactly those encoding/json writes (tested).

// AppendJSONString appends s to dst as a JSON string, escaped exactly as
// encoding/json escapes it by default: '"', '\\' and control characters,
// '<', '>' and '&' (HTML-safe), U+2028 and U+2029, and each byte of
// invalid UTF-8 as U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes that need no escaping (all of a JWT, most of
		// everything else) are skipped eight at a time.
		for i+8 <= len(s) && jsonSafe8(s[i:i+8]) {
			i += 8
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSafe8 reports whether the 8 bytes of b are all in jsonSafe.
func jsonSafe8(b string) bool {
	_ = b[7]
	return jsonSafe[b[0]] && jsonSafe[b[1]] && jsonSafe[b[2]] && jsonSafe[b[3]] &&
		jsonSafe[b[4]] && jsonSafe[b[5]] && jsonSafe[b[6]] && jsonSafe[b[7]]
}

// jsonSafe marks the ASCII bytes a JSON string holds as they are; no
// byte from utf8.RuneSelf up is marked.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSON appends the claims as the JSON object encoding/json makes of
// them (same members, order and spelling), without reflection.
func (c *AccessClaims) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"iss":`...)
	dst = AppendJSONString(dst, c.Issuer)
	dst = append(dst, `,"sub":`...)
	dst = AppendJSONString(dst, c.Subject)
	dst = append(dst, `,"aud":`...)
	dst = appendAudience(dst, c.Audience)
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, int64(c.Expiry), 10)
	if c.NotBefore != 0 {
		dst = append(dst, `,"nbf":`...)
		dst = strconv.AppendInt(dst, int64(c.NotBefore), 10)
	}
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, int64(c.IssuedAt), 10)
	dst = append(dst, `,"jti":`...)
	dst = AppendJSONString(dst, c.ID)
	dst = append(dst, `,"client_id":`...)
	dst = AppendJSONString(dst, c.ClientID)
	if c.Scope != "" {
		dst = append(dst, `,"scope":`...)
		dst = AppendJSONString(dst, c.Scope)
	}
	if c.Confirmation != nil {
		dst = append(dst, `,"cnf":{"jkt":`...)
		dst = AppendJSONString(dst, c.Confirmation.JKT)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendAudience writes one audience as a string, none as null and more
// as an array, as jwt.Audience's MarshalJSON does.
func appendAudience(dst []byte, aud []string) []byte {
	switch len(aud) {
	case 0:
		return append(dst, "null"...)
	case 1:
		return AppendJSONString(dst, aud[0])
	}
	dst = append(dst, '[')
	for i, a := range aud {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, a)
	}
	return append(dst, ']')
}
