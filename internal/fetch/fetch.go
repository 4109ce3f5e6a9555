// Package fetch gets small documents from URLs that third parties name,
// such as OAuth client ID metadata documents, without letting them turn
// tokend against its own network (server-side request forgery).
//
// A Fetcher speaks https only, never through a proxy, follows no
// redirect, reads at most Config.MaxBytes within Config.Timeout, and
// refuses to connect to any address that is not public unicast:
// loopback, private (RFC 1918, unique-local fc00::/7), link-local
// (169.254.0.0/16 with the cloud metadata address, fe80::/10),
// shared (100.64.0.0/10), multicast, unspecified and reserved ranges.
// The check runs at dial time on the address actually dialled, after
// name resolution, so a name that resolves (or rebinds) to a forbidden
// address is refused too. Config.InsecureAllowPrivate lifts the address
// and https rules, for development and tests only.
//
// Post sends webhook bodies under the same rules, and CheckTarget checks
// a URL before it is stored: the literal address, and each address its
// host name resolves to now.
//
// Every error a Fetcher returns has text written to be shown to whoever
// named the URL: it says what was wrong with the URL or the answer and
// nothing about tokend's network beyond that.
package fetch
