package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE (RFC 7636) is required of every authorization request, and only
// its S256 method is accepted: plain would hand the verifier to anyone who
// sees the authorization request (RFC 9700 §2.1.1).
const PKCEMethodS256 = "S256"

// validPKCE reports whether s is 43 to 128 characters of the unreserved
// set RFC 7636 §4.1 allows, the shape of both verifier and an S256
// challenge (which is exactly 43).
func validPKCE(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// checkChallenge validates code_challenge and its method.
func checkChallenge(challenge, method string) *Error {
	switch {
	case challenge == "":
		return invalidRequest("code_challenge is required: tokend requires PKCE (RFC 7636) with S256")
	case method != PKCEMethodS256:
		return invalidRequest("code_challenge_method must be S256")
	case len(challenge) != 43 || !validPKCE(challenge, 43, 43):
		return invalidRequest("code_challenge must be the 43-character base64url SHA-256 of the verifier")
	}
	return nil
}

// verifierMatches reports whether verifier hashes to challenge under S256.
func verifierMatches(verifier, challenge string) bool {
	if !validPKCE(verifier, 43, 128) {
		return false
	}
	h := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(h[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
