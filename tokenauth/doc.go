// Package tokenauth protects the HTTP API of a resource server with
// tokens issued by tokend. It is net/http middleware: a handler wrapped
// in Require runs only for a request carrying a valid bearer token of
// this API with the required scopes, and finds the caller in its
// context.
//
// The package depends only on the standard library, on the wire types in
// [github.com/tokend/tokend/api] and on go-jose; it never imports
// tokend's internals.
//
// # A resource server
//
//	func main() {
//		auth, err := tokenauth.New(tokenauth.Config{
//			URL:       "https://tokend.example.com",
//			VerifyKey: os.Getenv("TOKEND_VERIFY_KEY"), // a key with scope tokend:verify
//			Audience:  "https://billing.example.com",  // the audience of this API in tokend
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		mux := http.NewServeMux()
//		mux.Handle("GET /invoices", auth.Require("invoices:read")(http.HandlerFunc(listInvoices)))
//		mux.Handle("POST /invoices", auth.Require("invoices:write")(http.HandlerFunc(createInvoice)))
//		mux.Handle("GET /.well-known/oauth-protected-resource", auth.MetadataHandler())
//		log.Fatal(http.ListenAndServe(":8080", mux))
//	}
//
//	func listInvoices(w http.ResponseWriter, r *http.Request) {
//		p, _ := tokenauth.FromContext(r.Context())
//		fmt.Fprintf(w, "invoices of %s\n", p.Subject)
//	}
//
// # Tokens
//
// Clients send their token as "Authorization: Bearer <token>", nowhere
// else. Every kind tokend issues is accepted:
//
//   - API keys, personal access tokens and opaque OAuth access tokens are
//     asked about at tokend's POST /v1/verify, authenticated with
//     Config.VerifyKey. A VALID answer is reused for Config.CacheTTL (5s by
//     default) for the same token, audience and client address: that is
//     how long a revoked key may still be accepted. The cache keys by the
//     token's SHA-256, never the token. Concurrent requests with the same
//     token share one call. A key with rate limits or credits is asked
//     about on every request, so that tokend counts each one: a cached
//     answer never bypasses a limit.
//   - JWT access tokens (RFC 9068) are verified here, without a call to
//     tokend, against tokend's published signing keys.
//
// # Answers
//
// The middleware answers a refused request itself, with a JSON body
// {"error":…,"error_description":…} and Cache-Control: no-store:
//
//   - 400 invalid_request: a token in the query string, or two
//     Authorization headers;
//   - 401: no bearer token (a bare challenge, RFC 6750 §3.1), or
//     invalid_token: malformed, unknown, expired, revoked, disabled, of
//     another audience, or not allowed from the client's address;
//   - 403 insufficient_scope: a valid token without a required scope;
//   - 429 rate_limited: a rate limit or the credits of the key are
//     exhausted, with Retry-After when a limit resets;
//   - 503 temporarily_unavailable: tokend could not be asked (see Failure
//     policy), with Retry-After.
//
// 400, 401 and 403 carry an RFC 6750 challenge naming the required scope
// and, per RFC 9728 §5.1, the URL of this server's protected-resource
// metadata, which MetadataHandler serves:
//
//	WWW-Authenticate: Bearer error="insufficient_scope", error_description="the token lacks a required scope",
//		scope="invoices:write", resource_metadata="https://billing.example.com/.well-known/oauth-protected-resource"
//
// Every answer to a key with rate limits carries X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset, and the IETF RateLimit-Policy
// and RateLimit fields; see WriteRateLimitHeaders.
//
// # Failure policy
//
// When tokend cannot be reached, or answers with an error, within
// Config.Timeout, no verdict exists. With FailClosed (the default) the
// request is refused with 503 and the cause is logged to Config.Logger.
// InsecureFailOpen lets such requests through without a principal; read
// its documentation before using it. Tokens already in the cache keep
// working during an outage for as long as they stay cached.
//
// # Other uses
//
// Check verifies a request without answering it, and WriteError answers a
// refusal, for code that is not a plain middleware chain (a gateway, a
// WebSocket upgrade). RequireWith takes a Requirement with an audience of
// its own for routes of another API.
package tokenauth
