package user

import (
	_ "embed"
	"strings"
	"unicode/utf8"

	"github.com/tokend/tokend/internal/valid"
)

//go:embed common.txt
var commonText string

// MinPasswordLength is the least number of characters (not bytes) a
// password has; MaxPasswordLength bounds it in bytes, so that a request
// cannot make hashing read megabytes.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

// commonPasswords is the embedded list of common passwords, lower case.
type commonPasswords map[string]bool

func loadCommon() commonPasswords {
	m := commonPasswords{}
	for line := range strings.Lines(commonText) {
		line = strings.TrimRight(line, "\r\n")
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}

// refuses reports whether password is too common: in the list; a listed
// entry followed only by digits and punctuation; a listed entry or any
// short piece repeated; or one character repeated.
func (c commonPasswords) refuses(password string) bool {
	p := strings.ToLower(password)
	if c[p] || c[strings.TrimRight(p, "0123456789!@#$%^&*()-_=+.,?~ ")] {
		return true
	}
	for n := 1; n <= len(p)/2; n++ {
		if len(p)%n == 0 && strings.Repeat(p[:n], len(p)/n) == p {
			return true
		}
	}
	return false
}

// checkPassword returns a *valid.Error for the field "password" if
// password may not be set for username. The reason never repeats the
// password.
func (c commonPasswords) checkPassword(username, password string) error {
	reason := ""
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		reason = "must be at least 12 characters"
	case len(password) > MaxPasswordLength:
		reason = "must be at most 1024 bytes"
	case !utf8.ValidString(password):
		reason = "must be valid UTF-8"
	case c.refuses(password):
		reason = "is too common: it is, or is built from, a widely used password"
	default:
		return checkNotUsername(username, password)
	}
	return valid.Errorf("password", "%s", reason)
}

// checkNotUsername refuses a password that contains a username of four
// characters or more, in any case.
func checkNotUsername(username, password string) error {
	if len(username) >= 4 && strings.Contains(strings.ToLower(password), strings.ToLower(username)) {
		return valid.Errorf("password", "must not contain the username")
	}
	return nil
}
