package web

import (
	"net/http"
)

// CSP is the Content-Security-Policy of every answer: scripts, styles
// and images only from tokend itself (no inline script or style, so an
// injected tag cannot run), no framing (clickjacking), forms posting only
// back to tokend, and no <base> that could redirect relative URLs.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// protect wraps the mux in the security headers and in Go's cross-origin
// protection: a state-changing request (anything but GET, HEAD and
// OPTIONS) that a browser marks as sent from another origin, by
// Sec-Fetch-Site or by an Origin that is not this host, is refused with
// a 403 page before any handler runs. Together with the SameSite=Lax
// session cookie this is tokend's defence against cross-site request
// forgery; it needs no token in the forms, so the pages work without
// JavaScript.
func (s *Site) protect(mux http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errCrossOrigin)
	}))
	inner := cop.Handler(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Pages carry people's data: no cache may keep them, and the
		// back button after sign-out shows nothing stale. The static
		// handler replaces this for its public files.
		h.Set("Cache-Control", "no-store")
		inner.ServeHTTP(w, r)
	})
}
