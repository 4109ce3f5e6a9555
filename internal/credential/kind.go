package credential

// The kinds of token, as api.TokenInfo.Kind (verification) and the
// token_kind of introspection name them.
const (
	// KindAPIKey is an API key, including tokend's admin and verify keys.
	KindAPIKey = "api_key"
	// KindAccessToken is an opaque OAuth access token.
	KindAccessToken = "access_token"
	// KindJWTAccessToken is an RFC 9068 JWT access token.
	KindJWTAccessToken = "jwt_access_token"
	// KindRefreshToken is an OAuth refresh token (introspection only).
	KindRefreshToken = "refresh_token"
	// KindSession is a browser session token (package user); it names
	// sessions in the audit log and is never a verification answer.
	KindSession = "session"
	// KindPersonalToken is a personal access token; its subject is the
	// id of the user who holds it.
	KindPersonalToken = "personal_access_token"
)

// The typ header values of the JWTs tokend signs (RFC 8725 §3.11: one
// typ per kind of JWT, so that one kind cannot be replayed as another).
const (
	// TypAccessToken is the typ of JWT access tokens (RFC 9068 §2.1).
	TypAccessToken = "at+jwt"
	// TypIDToken is reserved for OpenID Connect ID tokens (next).
	TypIDToken = "JWT"
	// TypLogoutToken is reserved for OpenID Connect back-channel logout
	// tokens (next; OIDC Back-Channel Logout 1.0 §2.4).
	TypLogoutToken = "logout+jwt"
)
