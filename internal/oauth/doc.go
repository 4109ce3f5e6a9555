// Package oauth is tokend's OAuth 2.0 authorization server for machine
// clients: the clients themselves (management and RFC 7591/7592 dynamic
// registration), client authentication (client_secret_basic,
// client_secret_post and RFC 7523 private_key_jwt, with brute-force
// protection), the token endpoint's grants (client_credentials, and
// refresh_token with rotation and family reuse detection), access tokens
// (RFC 9068 JWTs or opaque tokens, per client), RFC 7662 introspection of
// every token kind, RFC 7009 revocation, and the RFC 8414 metadata.
//
// Every failure a client may see is an *Error carrying its RFC 6749 §5.2
// code; the server writes it. Client secrets, opaque access tokens,
// refresh tokens and registration access tokens share the opaque token
// format of package credential, each with its own prefix from there, and are stored only
// as SHA-256. Every change of a client and every refresh-token issue,
// rotation and revocation is one store transaction with its audit event;
// access tokens, issued at request rates, are not audited one by one.
//
// The package does not speak HTTP: the server parses requests into the
// values defined here (see ParseForm and Credentials) and renders the
// answers.
package oauth
