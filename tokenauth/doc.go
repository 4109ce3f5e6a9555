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
// Clients send their token as "Authorization: Bearer <token>" (or, bound to
// a key, "Authorization: DPoP <token>"; see below), nowhere else. Every
// kind tokend issues is accepted:
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
//     tokend, against tokend's published signing keys (see below).
//
// # JWT access tokens
//
// The JWKS is found through the issuer's RFC 8414 metadata (or taken from
// Config.JWKSURL), fetched at the first JWT and kept for its Cache-Control
// max-age (at most Config.JWKSMaxAge). A token signed with a key the set
// does not hold makes it be fetched again at once, single-flight, and at
// most once per Config.JWKSRefreshInterval, so a signing-key rotation
// never fails a request while a flood of made-up kids cannot hammer
// tokend. If tokend cannot be reached, the keys already known stay in
// use.
//
// A token must have typ at+jwt (or application/at+jwt, in any case), an
// alg equal to the alg of its key in the JWKS (ES256, EdDSA or RS256 as
// tokend signs; never none nor an HMAC), a valid signature, iss equal to
// Config.Issuer, an aud holding the route's audience, and exp and nbf
// that hold at the current time give or take Config.Leeway.
//
// A JWT cannot be recalled: it is valid until it expires. If a resource
// server must honour revocations sooner, Config.RevocationCheckInterval
// makes it also ask tokend about each token, at most once per interval,
// trading one call per token per interval (and a dependency on tokend
// being up) for a revoked token being refused within that interval.
//
// # Answers
//
// The middleware answers a refused request itself, with a JSON body
// {"error":…,"error_description":…} and Cache-Control: no-store:
//
//   - 400 invalid_request: a token in the query string, or two
//     Authorization headers;
//   - 401: no bearer token (a bare challenge, RFC 6750 §3.1), or
//     invalid_token: malformed ("Authorization: Bearer" without a token
//     included, as tokend answers it), unknown, expired, revoked,
//     disabled, of another audience, or not allowed from the client's
//     address;
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
// # Signed requests
//
// A request that carries an RFC 9421 signature (Signature-Input and
// Signature fields) is checked too: its body, if any, is read (up to
// Config.MaxSignedBody) and compared with its Content-Digest here, then
// put back for the handler, and tokend checks the signature with the
// key's signing key at /v1/verify. The answer of a key that has a signing
// key, or whose API requires signed requests, is never cached or shared.
// A signature that does not hold, or a missing one where the API requires
// it, is 401 with error="invalid_signature" and a description of what did
// not match. Config.TargetURI must give the URI the client addressed
// (behind a proxy that terminates TLS, say so). JWT access tokens carry no
// signing key and are not checked this way.
//
// An upstream behind forward-auth (nginx auth_request) gets no such
// check, since the proxy sends tokend no body: RequireContentDigest (or
// CheckContentDigest) makes it there, answering 400 when the body does
// not match its Content-Digest.
//
// # DPoP-bound tokens
//
// A token bound to a client key (RFC 9449: a JWT with cnf.jkt, an API key
// or access token tokend bound) is accepted only as "Authorization: DPoP
// <token>" with a DPoP header holding a fresh proof of that key for this
// request; sent as a bearer token it is refused with invalid_token, and so
// is a token that is not bound sent as DPoP. A JWT's proof is checked
// here: typ dpop+jwt, an allowed alg (ES256, EdDSA or Ed25519, RS256,
// PS256), a public jwk whose thumbprint is cnf.jkt, the signature, htm
// and htu against this request (Config.PublicURL behind a proxy), iat
// within 2 minutes, ath of the token, a jti never seen before
// (Config.DPoPReplay, shared between instances), and the server nonce
// when Config.DPoPNonceSecret is set. An opaque token's proof is relayed
// to /v1/verify with the request's method and URL, and its answer is
// never cached. Refusals are 401 invalid_dpop_proof, or use_dpop_nonce
// with the nonce to use in DPoP-Nonce, in a DPoP challenge:
//
//	WWW-Authenticate: DPoP error="invalid_dpop_proof", error_description="…", scope="invoices:read",
//		resource_metadata="…", algs="ES256 EdDSA Ed25519 RS256 PS256"
//	WWW-Authenticate: Bearer scope="invoices:read", resource_metadata="…"
//
// Every 400, 401 and 403 carries both challenges, the one of the scheme the
// request used first.
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
