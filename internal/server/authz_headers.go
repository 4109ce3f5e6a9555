package server

import (
	"net/http"
	"strings"

	"github.com/tokend/tokend/api"
)

// limitError is a request refused by a rate limit or by spent credits:
// 429, with the rate-limit headers and Retry-After written beforehand.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// setIdentity writes the identity headers of an allowed request
// (api.HeaderSubject and the rest), every one, empty when the token has
// no such value: a proxy that copies them onto the upstream request
// (Traefik's authResponseHeaders, Envoy's allowed_upstream_headers) then
// overwrites any the client sent.
func setIdentity(h http.Header, t *api.TokenInfo) {
	for _, kv := range [...][2]string{
		{api.HeaderSubject, t.Subject}, {api.HeaderTokenID, t.ID}, {api.HeaderTokenKind, t.Kind},
		{api.HeaderScopes, strings.Join(t.Scopes, " ")}, {api.HeaderClientID, t.ClientID}, {api.HeaderAPIID, t.APIID},
	} {
		h[kv[0]] = []string{kv[1]}
	}
}
