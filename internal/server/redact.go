package server

import (
	"strings"

	"github.com/tokend/tokend/internal/credential"
)

// redactedMark replaces a secret in a logged path. It starts and ends with
// characters that neither a token nor a JWT may hold, so a redaction never
// joins its neighbours into a new credential.
const redactedMark = "(redacted)"

// tokenTail is the length of "_" + body + checksum, the part of a tokend
// token after its prefix.
const tokenTail = credential.TailLen

// redactCredentials returns s with every credential inside it replaced,
// wherever it sits (a segment, part of one, next to other text): the
// secret part of each tokend token whose checksum passes, and each
// JWT-shaped run. It returns s itself when there is nothing to redact.
func redactCredentials(s string) string {
	return redactJWTs(redactTokens(s))
}

// containsCredential reports whether s holds a tokend token or a JWT.
func containsCredential(s string) bool { return redactCredentials(s) != s }

// redactTokens replaces the 49 characters after the '_' of every embedded
// tokend token; the prefix, which is public, stays for the reader.
func redactTokens(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+tokenTail <= len(s); i++ {
		if s[i] != '_' || !isBase62(s[i+1:i+tokenTail]) || !tokenEndsAt(s, i) {
			continue
		}
		b.WriteString(s[last : i+1])
		b.WriteString(redactedMark)
		last = i + tokenTail
		i = last - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// tokenEndsAt reports whether some prefix before the '_' at i makes
// s[..:i+tokenTail] a token whose checksum passes. Every prefix length is
// tried, because the text before a token ("x", "Bearer ") may itself
// look like prefix characters.
func tokenEndsAt(s string, i int) bool {
	for j := i - 1; j >= 0 && i-j <= credential.MaxPrefixLen && isPrefixChar(s[j]); j-- {
		if _, ok := credential.Parse(s[j : i+tokenTail]); ok {
			return true
		}
	}
	return false
}

// redactJWTs replaces every run that starts with "eyJ" (the base64url of
// `{"`) and holds at least two dots within base64url and '.' characters.
func redactJWTs(s string) string {
	if !strings.Contains(s, "eyJ") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] != "eyJ" {
			continue
		}
		end, dots := i+3, 0
		for ; end < len(s) && isJWTChar(s[end]); end++ {
			if s[end] == '.' {
				dots++
			}
		}
		if dots < 2 {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(redactedMark)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func isPrefixChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' }

func isJWTChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_' || c == '.'
}
