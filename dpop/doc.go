// Package dpop implements OAuth 2.0 Demonstrating Proof of Possession
// (DPoP, RFC 9449): it checks the proofs a client sends in the DPoP
// header, computes the JWK thumbprints (RFC 7638) tokens are bound to,
// issues and checks stateless server nonces, and makes proofs for Go
// clients and tests.
//
// A resource server or authorization server builds one Checker and
// calls Check on every request that carries a proof:
//
//	checker := dpop.New(dpop.Config{Nonces: dpop.NewNonces(secret, 0, nil)})
//	proof, err := checker.Check(ctx, r.Header.Get("DPoP"), dpop.Request{
//		Method: r.Method, URL: "https://api.example.com" + r.URL.Path, AccessToken: token,
//	})
//	if err != nil { /* 401 with WWW-Authenticate: DPoP error="invalid_dpop_proof" */ }
//	if proof.JKT != tokenCnfJKT { /* the token is bound to another key */ }
//
// Check performs every check of RFC 9449 §4.3, in order: one well-formed
// JWT; typ dpop+jwt; an asymmetric algorithm of the allow-list (never
// none, never HMAC); a public key in the jwk header (private key
// material is refused); the signature; htm and htu (compared without
// query and fragment, after RFC 3986 normalization); iat within the
// window; the server nonce, when nonces are on; ath, the hash of the
// access token, when a token is presented; and last, jti never seen
// before within the window, in a ReplayCache (in process, or shared
// through Redis by a caller that provides one).
//
// The package speaks no HTTP: callers pass the method and URL. It
// depends on the standard library and go-jose only, so that public
// packages (tokenauth) and tokend's own surfaces share one check.
package dpop
