package client

import (
	"hash/crc32"
	"strings"
)

// TokenPattern is a regular expression (RE2, PCRE and the usual secret
// scanners' dialects) that matches tokend's opaque tokens in text: a
// prefix of 1 to 16 of [a-z0-9_], "_", 43 base62 characters of random
// body and 6 of checksum. An API's keys carry the prefix it chose; the
// prefixes of tokend's own tokens are listed in docs/secret-scanning.md,
// with a pattern each. A match is a candidate: CheckToken tells a real
// token from a look-alike.
const TokenPattern = `\b[a-z0-9_]{1,16}_[0-9A-Za-z]{49}\b`

// CheckToken reports whether s is a well-formed tokend opaque token, and
// returns its prefix: the shape of TokenPattern and a checksum (the last
// 6 characters: the CRC-32 (IEEE) of everything before them, in base62,
// left-padded with '0') that matches. It works offline; a token that
// passes may still be unknown, expired or revoked, which only tokend
// knows. A string that fails cannot be a token tokend issued: a
// mistyped, truncated or made-up look-alike.
func CheckToken(s string) (prefix string, ok bool) {
	const body, sum, maxPrefix = 43, 6, 16
	cut := len(s) - 1 - body - sum
	if cut < 1 || cut > maxPrefix || s[cut] != '_' {
		return "", false
	}
	for i := 0; i < cut; i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", false
		}
	}
	var n uint64
	for i := cut + 1; i < len(s); i++ {
		d := strings.IndexByte(base62, s[i])
		if d < 0 {
			return "", false
		}
		if i >= len(s)-sum {
			n = n*62 + uint64(d)
		}
	}
	if n != uint64(crc32.ChecksumIEEE([]byte(s[:len(s)-sum]))) {
		return "", false
	}
	return s[:cut], true
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
