package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// par serves POST /oauth2/par (RFC 9126): 201 with a request_uri. A
// DPoP header binds the code to its key (RFC 9449 §10.1).
func (s *Server) par(ctx context.Context, c oauthCall) (oauth.PushedResponse, error) {
	proof, err := dpopHeader(c.r)
	if err != nil {
		return oauth.PushedResponse{}, err
	}
	return s.oauth.Push(ctx, c.client, c.form, proof)
}

// deviceAuthorization serves POST /oauth2/device_authorization (RFC 8628
// §3.1).
func (s *Server) deviceAuthorization(ctx context.Context, c oauthCall) (oauth.DeviceAuthorization, error) {
	return s.oauth.AuthorizeDevice(ctx, c.client, c.form)
}

// userinfo serves GET and POST /oauth2/userinfo (OIDC Core §5.3) for a
// bearer access token in the Authorization header, the one place RFC
// 6750 §2.1 allows that tokend accepts (never the query; a form body is
// not read), or a DPoP-bound one as "Authorization: DPoP" with its proof
// (RFC 9449 §7).
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil {
		s.oauthFail(w, r, store.ErrNotFound)
		return
	}
	req := oauth.UserinfoRequest{Method: r.Method}
	var ok bool
	if req.Token, ok = bearer(r); !ok {
		req.Token, req.DPoP = dpopToken(r)
	}
	switch {
	case !ok && !req.DPoP:
		// No credential: a bare challenge (RFC 6750 §3.1).
		s.oauthFail(w, r, &authError{http.StatusUnauthorized, api.ErrUnauthorized,
			"send an access token as Authorization: Bearer <token>", bareChallenge})
		return
	case req.Token == "":
		s.oauthFail(w, r, &oauth.Error{Code: oauth.ErrInvalidToken, Status: http.StatusUnauthorized,
			Description: "the Authorization header names its scheme but holds no token"})
		return
	}
	proof, err := dpopHeader(r)
	if err != nil && req.DPoP {
		s.oauthFail(w, r, &oauth.Error{Code: dpop.CodeInvalidProof, Status: http.StatusUnauthorized, Description: "send one DPoP header, not several"})
		return
	}
	req.Proof = proof
	u, err := s.oauth.Userinfo(r.Context(), req)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	s.writeOAuth(w, r, http.StatusOK, u)
}

// corsPaths are the endpoints browser apps (SPAs, the MCP clients that
// run in a browser) call from another origin: discovery, JWKS, token,
// userinfo, registration, PAR, device authorization and revocation. They
// authenticate with what the script sends (a client id, a PKCE verifier,
// a bearer token), never with cookies, so any origin may call them and
// credentials mode stays off.
var corsPaths = []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration",
	oauth.JWKSPath, oauth.TokenPath, oauth.UserinfoPath, oauth.RegisterPath, oauth.PARPath, oauth.DevicePath, oauth.RevokePath}

func isCORSPath(p string) bool {
	return slices.Contains(corsPaths, p) || strings.HasPrefix(p, oauth.RegisterPath+"/")
}

// cors answers CORS preflights of the corsPaths and marks their answers
// readable from any origin.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if firstHeader(r.Header, keyOrigin) == "" || !isCORSPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After, X-Request-Id, DPoP-Nonce")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
