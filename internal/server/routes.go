package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tokend/tokend/internal/apikey"
)

// route is one entry of the route table. The OpenAPI document is tested
// against this table, so the two cannot drift apart.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists every route the API serves.
func (s *Server) routes() []route {
	admin := []string{apikey.ScopeAdmin}
	verifiers := []string{apikey.ScopeAdmin, apikey.ScopeVerify}
	return []route{
		{"GET /healthz", http.HandlerFunc(s.healthz)},
		{"GET /readyz", http.HandlerFunc(s.readyz)},
		{"GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})},
		{"GET /v1/openapi.json", http.HandlerFunc(serveOpenAPI)},

		{"POST /v1/apis", handle(s, admin, http.StatusCreated, s.createAPI)},
		{"GET /v1/apis", handle(s, admin, http.StatusOK, s.listAPIs)},
		{"GET /v1/apis/{id}", handle(s, admin, http.StatusOK, s.getAPI)},
		{"PATCH /v1/apis/{id}", handle(s, admin, http.StatusOK, s.updateAPI)},
		{"DELETE /v1/apis/{id}", handle(s, admin, http.StatusNoContent, s.deleteAPI)},

		{"POST /v1/keys", handle(s, admin, http.StatusCreated, s.createKey)},
		{"GET /v1/keys", handle(s, admin, http.StatusOK, s.listKeys)},
		{"GET /v1/keys/{id}", handle(s, admin, http.StatusOK, s.getKey)},
		{"PATCH /v1/keys/{id}", handle(s, admin, http.StatusOK, s.updateKey)},
		{"POST /v1/keys/{id}/rotate", handle(s, admin, http.StatusOK, s.rotateKey)},
		{"POST /v1/keys/{id}/revoke", handle(s, admin, http.StatusOK, s.revokeKey)},

		{"POST /v1/verify", handle(s, verifiers, http.StatusOK, s.verify)},
		{"GET /v1/audit", handle(s, admin, http.StatusOK, s.listAudit)},

		{"GET /oauth2/jwks.json", http.HandlerFunc(s.jwks)},
		{"GET /v1/signing-keys", handle(s, admin, http.StatusOK, s.listSigningKeys)},
		{"POST /v1/signing-keys/rotate", handle(s, admin, http.StatusOK, s.rotateSigningKey)},

		{"POST /v1/clients", handle(s, admin, http.StatusCreated, s.createClient)},
		{"GET /v1/clients", handle(s, admin, http.StatusOK, s.listClients)},
		{"GET /v1/clients/{id}", handle(s, admin, http.StatusOK, s.getClient)},
		{"PATCH /v1/clients/{id}", handle(s, admin, http.StatusOK, s.updateClient)},
		{"DELETE /v1/clients/{id}", handle(s, admin, http.StatusNoContent, s.deleteClient)},
		{"POST /v1/clients/{id}/rotate-secret", handle(s, admin, http.StatusOK, s.rotateClientSecret)},

		// OAuth 2.0: form bodies and RFC 6749 §5.2 errors (oauth.go).
		{"POST /oauth2/token", http.HandlerFunc(s.token)},
		{"POST /oauth2/introspect", http.HandlerFunc(s.introspect)},
		{"POST /oauth2/revoke", http.HandlerFunc(s.revoke)},
		{"POST /oauth2/register", http.HandlerFunc(s.register)},
		{"GET /oauth2/register/{id}", http.HandlerFunc(s.registration)},
		{"PUT /oauth2/register/{id}", http.HandlerFunc(s.registration)},
		{"DELETE /oauth2/register/{id}", http.HandlerFunc(s.registration)},
		{"GET /.well-known/oauth-authorization-server", http.HandlerFunc(s.metadata)},
		{"GET /.well-known/openid-configuration", http.HandlerFunc(s.metadata)},
	}
}

// Handler returns the API with its middleware: request ids and access
// logging outermost, then the refusal of tokens in URLs.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.handler)
	}
	mux.Handle("/", notFound(mux))
	return s.logRequests(s.refuseTokensInURL(mux))
}
