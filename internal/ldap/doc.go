// Package ldap signs people in against an LDAP directory or Microsoft
// Active Directory, behind the user package's Directory interface.
//
// A sign-in is one connection, upgraded with StartTLS (ldap://) or TLS
// from the start (ldaps://) before any password crosses it, and bounded
// by Config.Timeout so that a hanging directory never hangs a sign-in:
//
//  1. bind as the search account (Config.BindDN);
//  2. search Config.UserBase with Config.UserFilter, the typed username
//     escaped per RFC 4515, and require exactly one entry;
//  3. bind as that entry's DN with the typed password (an empty password
//     is refused before: RFC 4513's unauthenticated bind would succeed);
//  4. bind as the search account again, check that the account is not
//     disabled (Config.DisabledFilter, or userAccountControl's
//     ACCOUNTDISABLE bit and accountExpires in Active Directory), and
//     read its groups (a search of Config.GroupBase, or memberOf).
//
// A wrong password and an unknown username give the same error,
// user.ErrInvalidCredentials, and a directory that cannot be reached or
// answers with anything else gives user.ErrUnavailable, which wraps the
// cause for the log; neither says more to the person signing in.
// Lookup is steps 1, 2 and 4, for the periodic checks that a directory
// user still exists, is still enabled and has the same groups.
package ldap
