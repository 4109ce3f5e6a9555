package credential

import "strings"

// The prefixes of the opaque credentials tokend issues for itself. API
// keys carry the prefix their API chose; these are refused to APIs (see
// Reserved), so that a prefix alone tells a person, a secret scanner or
// the access-log redaction what a token is.
const (
	// AdminKeyPrefix prefixes admin and verify keys: the API keys of the
	// built-in tokend API.
	AdminKeyPrefix = "tokend"
	// ClientSecretPrefix prefixes OAuth client secrets.
	ClientSecretPrefix = "tkcs"
	// AccessTokenPrefix prefixes opaque OAuth access tokens.
	AccessTokenPrefix = "tkat"
	// RefreshTokenPrefix prefixes OAuth refresh tokens. They are not
	// bearer credentials: verification never accepts one.
	RefreshTokenPrefix = "tkrt"
	// RegistrationTokenPrefix prefixes RFC 7592 registration access
	// tokens.
	RegistrationTokenPrefix = "tkrg"
	// PersonalTokenPrefix prefixes personal access tokens: tokens a
	// person holds for one API, with scopes their groups may hold there
	// (package apikey, pat.go).
	PersonalTokenPrefix = "tkpt"
	// SessionPrefix prefixes browser session tokens (package user), the
	// value of the session cookie. They are not bearer credentials of
	// the API: verification never accepts one.
	SessionPrefix = "tkss"
	// SetPasswordPrefix prefixes the tokens of one-time set-password
	// links (package user).
	SetPasswordPrefix = "tksp"
	// InitialAccessTokenPrefix is reserved for RFC 7591 initial access
	// tokens that tokend will issue (next).
	InitialAccessTokenPrefix = "tkia"
	// AuthCodePrefix prefixes OAuth authorization codes.
	AuthCodePrefix = "tkac"
	// DeviceCodePrefix prefixes RFC 8628 device codes.
	DeviceCodePrefix = "tkdc"
)

// prefixes lists every prefix tokend owns.
var prefixes = [...]string{
	AdminKeyPrefix, ClientSecretPrefix, AccessTokenPrefix, RefreshTokenPrefix, RegistrationTokenPrefix,
	PersonalTokenPrefix, SessionPrefix, SetPasswordPrefix, InitialAccessTokenPrefix, AuthCodePrefix, DeviceCodePrefix,
}

// Prefixes returns every prefix tokend owns, for messages and docs.
func Prefixes() []string { return append([]string(nil), prefixes[:]...) }

// Reserved reports whether an API may not give its keys prefix p: p is
// one of tokend's own prefixes or starts with one ("tokend_ci",
// "tkat_x"), so that an API's key can never be taken for an admin key or
// an OAuth token by a person or a secret scanner.
func Reserved(p string) bool {
	for _, r := range prefixes {
		if strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

// ReservedScopePrefix starts the scopes of tokend's own API
// ("tokend:admin", "tokend:verify"); no other API may define one.
const ReservedScopePrefix = "tokend:"
