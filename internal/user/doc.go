// Package user owns the people who sign in to tokend: their accounts
// (a stable id, a case-insensitive unique username, email, display name,
// groups, the tokend:admin role, whether they are enabled and whether
// they come from tokend itself or from a directory), their passwords
// (argon2id, parameters recorded in every hash), one-time set-password
// links, their second factors (TOTP, whose secrets are sealed under the
// key-encryption key by package seal, and single-use recovery codes,
// stored hashed, both behind a throttle of wrong codes kept in the store)
// and, as they land, passkeys, sessions and the sign-in throttle.
//
// A directory such as LDAP or Active Directory plugs in behind the small
// Directory interface of directory.go; package ldap implements it. This
// package speaks to the store, never to net/http: the surfaces (server,
// web) turn its values and errors into responses.
package user
