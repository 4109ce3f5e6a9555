package server

import (
	"regexp"
	"testing"

	"github.com/tokend/tokend/internal/credential"
)

// jwtShape is an independent oracle for a JWT-shaped run.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.`)

// survivingToken reports a tokend token with a valid checksum anywhere in
// s, by brute force over every start and length rather than the scan
// redactTokens uses.
func survivingToken(s string) (string, bool) {
	for i := range len(s) {
		for n := tokenTail + 1; n <= credential.MaxTokenLen && i+n <= len(s); n++ {
			if _, ok := credential.Parse(s[i : i+n]); ok {
				return s[i : i+n], true
			}
		}
	}
	return "", false
}

// FuzzRedactCredentials checks the access-log redaction's one property: no
// token whose checksum passes and no JWT survives in the logged path,
// whatever text surrounds them. Random bytes almost never make a valid
// checksum, so the target builds a real token from the fuzzed prefix and
// randomness and embeds it between fuzzed text.
func FuzzRedactCredentials(f *testing.F) {
	f.Add("/v1/keys/", ".json", "pay", []byte{1, 2, 3}, false)
	f.Add("/v1/keys/x", "%20", "tokend", []byte{9}, false)
	f.Add("/v1/keys/Bearer ", ":x", "a_b", []byte{}, true)
	f.Add("/eyJhbGciOiJub25lIn0.", ".sig/", "z9", []byte{7, 7}, false)
	f.Add("/", "_", "tkat", []byte{0xff}, true)
	f.Fuzz(func(t *testing.T, before, after, prefix string, r []byte, jwtAfter bool) {
		var seed [32]byte
		copy(seed[:], r)
		s := before + after
		if credential.ValidPrefix(prefix) {
			s = before + credential.Format(prefix, seed) + after
		}
		if jwtAfter {
			s += "/eyJ" + before + "." + after + "." + prefix
		}
		out := redactCredentials(s)
		if tok, ok := survivingToken(out); ok {
			t.Fatalf("token %q survives in %q (from %q)", tok, out, s)
		}
		if m := jwtShape.FindString(out); m != "" {
			t.Fatalf("JWT-shaped %q survives in %q (from %q)", m, out, s)
		}
		if _, ok := survivingToken(s); ok && !containsCredential(s) {
			t.Fatalf("%q holds a token but is not refused", s)
		}
	})
}
