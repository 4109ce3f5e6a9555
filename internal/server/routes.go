package server

import (
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tokend/tokend/api"
)

// route is one entry of the route table. scopes are the tokend scopes of
// which the caller must hold one; nil for routes open to anyone or
// authenticated otherwise (OAuth clients, registration tokens). The
// OpenAPI document and the authorization tests are checked against this
// table, so none of them can drift apart.
type route struct {
	pattern string
	scopes  []string
	handler http.Handler
}

// as is a route behind the principal middleware.
func (s *Server) as(pattern string, scopes []string, h callerHandler) route {
	return route{pattern, scopes, s.caller(scopes, h)}
}

// open is a route without a tokend caller.
func open(pattern string, h http.Handler) route { return route{pattern, nil, h} }

// routes lists every route the API serves.
func (s *Server) routes() []route {
	return append([]route{
		open("GET /healthz", http.HandlerFunc(s.healthz)),
		open("GET /readyz", http.HandlerFunc(s.readyz)),
		open("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})),
		open("GET /v1/openapi.json", http.HandlerFunc(serveOpenAPI)),

		s.as("POST /v1/apis", adminOnly, handle(s, http.StatusCreated, s.createAPI)),
		s.as("GET /v1/apis", adminOnly, handle(s, http.StatusOK, s.listAPIs)),
		s.as("GET /v1/apis/{id}", adminOnly, handle(s, http.StatusOK, s.getAPI)),
		s.as("PATCH /v1/apis/{id}", adminOnly, handle(s, http.StatusOK, s.updateAPI)),
		s.as("DELETE /v1/apis/{id}", adminOnly, handle(s, http.StatusNoContent, s.deleteAPI)),

		s.as("POST /v1/keys", adminOnly, handle(s, http.StatusCreated, s.createKey)),
		s.as("GET /v1/keys", adminOnly, handle(s, http.StatusOK, s.listKeys)),
		s.as("GET /v1/keys/{id}", adminOnly, handle(s, http.StatusOK, s.getKey)),
		s.as("PATCH /v1/keys/{id}", adminOnly, handle(s, http.StatusOK, s.updateKey)),
		s.as("POST /v1/keys/{id}/rotate", adminOnly, handle(s, http.StatusOK, s.rotateKey)),
		s.as("POST /v1/keys/{id}/revoke", adminOnly, handle(s, http.StatusOK, s.revokeKey)),

		s.as("POST /v1/verify", verifiers, handle(s, http.StatusOK, s.verify)),
		// Forward-auth for nginx, Traefik and Envoy (authz.go): the proxy's
		// verify key rides in Tokend-Verify-Key. Envoy's check request keeps
		// the original method and puts the original path below /v1/authz/.
		route{"GET /v1/authz", verifiers, s.proxyCaller(authzHandler{s})},
		s.as("GET /v1/audit", adminOnly, handle(s, http.StatusOK, s.listAudit)),

		open("GET /oauth2/jwks.json", http.HandlerFunc(s.jwks)),
		s.as("GET /v1/signing-keys", adminOnly, handle(s, http.StatusOK, s.listSigningKeys)),
		s.as("POST /v1/signing-keys/rotate", adminOnly, handle(s, http.StatusOK, s.rotateSigningKey)),

		s.as("POST /v1/users", adminOnly, handle(s, http.StatusCreated, s.createUser)),
		s.as("GET /v1/users", adminOnly, handle(s, http.StatusOK, s.listUsers)),
		s.as("GET /v1/users/{id}", adminOnly, handle(s, http.StatusOK, s.getUser)),
		s.as("PATCH /v1/users/{id}", adminOnly, handle(s, http.StatusOK, s.updateUser)),
		s.as("DELETE /v1/users/{id}", adminOnly, handle(s, http.StatusNoContent, s.deleteUser)),
		s.as("POST /v1/users/{id}/disable", adminOnly, handle(s, http.StatusOK, s.disableUser)),
		s.as("PUT /v1/users/{id}/groups", adminOnly, handle(s, http.StatusOK, s.setUserGroups)),
		s.as("POST /v1/users/{id}/password-link", adminOnly, handle(s, http.StatusCreated, s.issuePasswordLink)),
		s.as("GET /v1/users/{id}/passkeys", adminOnly, handle(s, http.StatusOK, s.listUserPasskeys)),
		s.as("DELETE /v1/users/{id}/passkeys/{passkey_id}", adminOnly, handle(s, http.StatusNoContent, s.deleteUserPasskey)),
		s.as("GET /v1/users/{id}/sessions", adminOnly, handle(s, http.StatusOK, s.listUserSessions)),
		s.as("DELETE /v1/users/{id}/sessions", adminOnly, handle(s, http.StatusNoContent, s.endUserSessions)),
		s.as("GET /v1/users/{id}/mfa", adminOnly, handle(s, http.StatusOK, s.getUserMFA)),
		s.as("POST /v1/users/{id}/reset-mfa", adminOnly, handle(s, http.StatusOK, s.resetUserMFA)),
		open("POST /v1/users/set-password", s.linkHolder(handle(s, http.StatusNoContent, s.setPassword))),
		// Anyone may report a tokend token found in public (leaks.go).
		open("POST /v1/leaked-tokens", s.leakReporter(handle(s, http.StatusAccepted, s.reportLeak))),

		s.as("GET /v1/tokens", adminOnly, handle(s, http.StatusOK, s.listAllTokens)),
		s.as("POST /v1/tokens/revoke", adminOnly, handle(s, http.StatusOK, s.revokeTokens)),
		s.as("GET /v1/grants", adminOnly, handle(s, http.StatusOK, s.listAllGrants)),
		s.as("POST /v1/grants/revoke", adminOnly, handle(s, http.StatusOK, s.revokeGrants)),
		s.as("GET /v1/users/{id}/tokens", adminOnly, handle(s, http.StatusOK, s.listUserTokens)),
		s.as("POST /v1/users/{id}/tokens", adminOnly, handle(s, http.StatusCreated, s.createUserToken)),
		s.as("GET /v1/tokens/{id}", adminOnly, handle(s, http.StatusOK, s.getToken)),
		s.as("POST /v1/tokens/{id}/regenerate", adminOnly, handle(s, http.StatusOK, s.regenerateToken)),
		s.as("POST /v1/tokens/{id}/revoke", adminOnly, handle(s, http.StatusOK, s.revokeToken)),

		s.as("GET /v1/approvals", adminOnly, handle(s, http.StatusOK, s.listApprovals)),
		s.as("GET /v1/approvals/{id}", adminOnly, handle(s, http.StatusOK, s.getApproval)),
		s.as("POST /v1/approvals/{id}/approve", adminOnly, handle(s, http.StatusOK, s.approve)),
		s.as("POST /v1/approvals/{id}/deny", adminOnly, handle(s, http.StatusOK, s.deny)),

		s.as("POST /v1/clients", adminOnly, handle(s, http.StatusCreated, s.createClient)),
		s.as("GET /v1/clients", adminOnly, handle(s, http.StatusOK, s.listClients)),
		s.as("GET /v1/clients/{id}", adminOnly, handle(s, http.StatusOK, s.getClient)),
		s.as("PATCH /v1/clients/{id}", adminOnly, handle(s, http.StatusOK, s.updateClient)),
		s.as("DELETE /v1/clients/{id}", adminOnly, handle(s, http.StatusNoContent, s.deleteClient)),
		s.as("POST /v1/clients/{id}/rotate-secret", adminOnly, handle(s, http.StatusOK, s.rotateClientSecret)),

		s.as("POST /v1/webhooks", adminOnly, handle(s, http.StatusCreated, s.createWebhook)),
		s.as("GET /v1/webhooks", adminOnly, handle(s, http.StatusOK, s.listWebhooks)),
		s.as("GET /v1/webhooks/{id}", adminOnly, handle(s, http.StatusOK, s.getWebhook)),
		s.as("DELETE /v1/webhooks/{id}", adminOnly, handle(s, http.StatusNoContent, s.deleteWebhook)),
		s.as("POST /v1/webhooks/{id}/rotate-secret", adminOnly, handle(s, http.StatusOK, s.rotateWebhookSecret)),
		s.as("GET /v1/webhooks/{id}/deliveries", adminOnly, handle(s, http.StatusOK, s.listWebhookDeliveries)),

		// OAuth 2.0: form bodies in, RFC 6749 §5.2 errors out (oauth.go).
		// Introspection also takes an admin or verify key as bearer.
		open("POST /oauth2/token", oauthForm(s, clientOnly, http.StatusOK, s.token)),
		route{"POST /oauth2/introspect", verifiers, oauthForm(s, verifiers, http.StatusOK, s.introspect)},
		open("POST /oauth2/revoke", oauthForm(s, clientOnly, http.StatusOK, s.revoke)),
		// OpenID Connect and the user grants (oidc.go): pushed
		// authorization requests, device authorization, userinfo.
		open("POST /oauth2/par", oauthForm(s, clientOnly, http.StatusCreated, s.par)),
		open("POST /oauth2/device_authorization", oauthForm(s, clientOnly, http.StatusOK, s.deviceAuthorization)),
		open("GET /oauth2/userinfo", http.HandlerFunc(s.userinfo)),
		open("POST /oauth2/userinfo", http.HandlerFunc(s.userinfo)),
		// Dynamic client registration: JSON in, OAuth errors out
		// (oauth_register.go), with a registration access token.
		open("POST /oauth2/register", oauthJSON(s, http.StatusCreated, s.register)),
		open("GET /oauth2/register/{id}", oauthJSON(s, http.StatusOK, s.readRegistration)),
		open("PUT /oauth2/register/{id}", oauthJSON(s, http.StatusOK, s.updateRegistration)),
		open("DELETE /oauth2/register/{id}", oauthJSON(s, http.StatusNoContent, s.deleteRegistration)),
		open("GET /.well-known/oauth-authorization-server", http.HandlerFunc(s.metadata)),
		open("GET /.well-known/openid-configuration", http.HandlerFunc(s.metadata)),
	}, append(s.meRoutes(), s.envoyAuthz()...)...)
}

// envoyAuthz are the routes of Envoy's ext_authz check requests: every
// method Envoy may pass on, with the original path below /v1/authz/.
func (s *Server) envoyAuthz() []route {
	var rs []route
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		rs = append(rs, route{m + " /v1/authz/{path...}", verifiers, s.proxyCaller(authzHandler{s})})
	}
	return rs
}

// Handler returns the API with its middleware: request ids and access
// logging outermost, then the refusal of tokens in URLs, then CORS on the
// OAuth endpoints browser apps call (oidc.go); the principal
// middleware sits on each route that needs a caller (as).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.handler)
	}
	mux.Handle("/", s.orPages(notFound(mux)))
	return s.logRequests(s.refuseTokensInURL(cors(uncleanAPIPaths(noAuthzRedirect(mux)))))
}

// noAuthzRedirect answers a request for /v1/authz with a method other
// than GET (or HEAD) with 405, as every other API path. ServeMux would
// redirect it to /v1/authz/, the subtree of Envoy's check requests,
// which is not what the caller asked for and not the API's format.
func noAuthzRedirect(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/authz" && r.Method != http.MethodGet && r.Method != http.MethodHead {
			notFound(mux)(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// uncleanAPIPaths answers a request for a path of the API that is not in
// canonical form (an empty segment as in /v1//keys, or a . or ..
// segment) with a 404 problem document. ServeMux would redirect it to the
// cleaned path with an HTML body, which is not the API's format, and
// which a proxy asking /v1/authz/… on a client's behalf would pass on to
// the client. Clean paths, and the pages' paths, go to the mux as before.
func uncleanAPIPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The escaped path, as the mux cleans it: %2F is no separator
		// here (/v1/authz refuses it itself, with 400).
		p := r.URL.EscapedPath()
		if c := path.Clean(p); c != p && c+"/" != p && apiOwns(p) {
			writeProblem(w, api.Problem{Status: http.StatusNotFound, Type: api.ErrNotFound,
				Detail:    "no such endpoint: the path has an empty, . or .. segment; see /v1/openapi.json",
				RequestID: w.Header().Get("X-Request-Id")})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiPrefixes are the paths the API owns: an unknown one there is a JSON
// problem, never a page.
var apiPrefixes = []string{"/v1/", "/oauth2/", "/.well-known/"}

// pagePaths are the OAuth endpoints that are browser pages (package web),
// though they sit under /oauth2/.
var pagePaths = []string{"/oauth2/authorize", "/oauth2/authorize/decide", "/oauth2/logout"}

// apiOwns reports whether path belongs to the API rather than the pages.
func apiOwns(path string) bool {
	if slices.Contains(pagePaths, path) {
		return false
	}
	switch path {
	case "/v1", "/oauth2", "/.well-known", "/healthz", "/readyz", "/metrics":
		return true
	}
	for _, p := range apiPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// orPages sends what no API route matched to the browser pages, except
// on the paths the API owns, which keep the API's answer.
func (s *Server) orPages(api http.Handler) http.Handler {
	if s.pages == nil {
		return api
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiOwns(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		s.pages.ServeHTTP(w, r)
	})
}
