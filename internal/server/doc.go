// Package server is tokend's HTTP API surface: the management API under
// /v1, the verify endpoint, the OAuth 2.0 endpoints under /oauth2, health,
// readiness and metrics. routes.go lists every route with the scopes it
// needs.
//
// Who is calling is resolved once, by the principal middleware
// (auth.go), into a principal (an admin or verify key now; a signed-in
// user or a personal access token later) that handlers receive; no
// handler authenticates by itself. Two adapters do the HTTP work: json.go
// (JSON in, RFC 9457 problems out, via the one mapping in errors.go) and
// oauth.go (form in, RFC 6749 §5.2 errors out, never cached), with
// oauth_register.go for the JSON registration endpoints. Each handler
// only says what it does.
//
// The API accepts bearer credentials, JSON and, on the OAuth endpoints,
// forms; never cookies. It owns HTTP concerns and nothing else: decisions
// are made by the domain packages (apikey, oauth, signer, verify, audit),
// and handlers read and write through them, never through the store.
package server
