package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
)

// The OAuth endpoints are form-encoded (RFC 6749 §3.2, RFC 7662 §2.1,
// RFC 7009 §2.1) and answer errors as RFC 6749 §5.2 JSON bodies, not as
// problem documents: oauthFail is the one place where their errors
// become HTTP.

// oauthBody is the RFC 6749 §5.2 error body.
type oauthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// oauthFail writes err as an OAuth error answer. *oauth.Error carries its
// own code and status; a failed bearer authentication (introspection
// with an admin key) answers as RFC 6750 §3.1 does; anything else is a
// 500 server_error whose detail stays in the log.
func (s *Server) oauthFail(w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	if e, ok := errors.AsType[*oauth.Error](err); ok {
		switch {
		case e.Code == oauth.ErrInvalidClient && e.Basic:
			h.Set("WWW-Authenticate", `Basic realm="tokend", charset="UTF-8"`)
		case e.Code == oauth.ErrInvalidToken && e.Status == http.StatusUnauthorized:
			h.Set("WWW-Authenticate", `Bearer realm="tokend", error="invalid_token"`)
		}
		if e.RetryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(int(e.RetryAfter/time.Second)))
		}
		writeOAuth(w, e.Status, oauthBody{Error: e.Code, Description: e.Description})
		return
	}
	if e, ok := errors.AsType[*authError](err); ok {
		code := oauth.ErrInvalidToken
		if e.status == http.StatusForbidden {
			code = "insufficient_scope"
		}
		h.Set("WWW-Authenticate", e.challenge)
		writeOAuth(w, e.status, oauthBody{Error: code, Description: e.msg})
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		writeOAuth(w, http.StatusNotFound, oauthBody{Error: oauth.ErrInvalidRequest, Description: "not found"})
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "request_id", h.Get("X-Request-Id"), "route", r.Pattern, "err", err)
	writeOAuth(w, http.StatusInternalServerError, oauthBody{Error: oauth.ErrServerError,
		Description: "internal error; the request id ties it to the server log"})
}

// writeOAuth writes v as JSON that no cache may keep (RFC 6749 §5.1).
func writeOAuth(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, v)
}

var errOAuthOff = errors.New("oauth is not configured")

// readForm reads the form body of an OAuth request: exactly
// application/x-www-form-urlencoded, at most oauth.MaxFormBytes, parsed
// strictly by oauth.ParseForm.
func readForm(w http.ResponseWriter, r *http.Request) (oauth.Form, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return oauth.Form{}, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body must be application/x-www-form-urlencoded"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, oauth.MaxFormBytes))
	if err != nil {
		return oauth.Form{}, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body could not be read or exceeds " + strconv.Itoa(oauth.MaxFormBytes) + " bytes"}
	}
	return oauth.ParseForm(body)
}

// credentials collects how r tries to authenticate its client. The
// Basic user and password are form-decoded (RFC 6749 §2.3.1).
func (s *Server) credentials(r *http.Request, f oauth.Form) (oauth.Credentials, error) {
	cr := oauth.Credentials{Form: f, Endpoint: s.oauth.Issuer() + r.URL.Path, IP: clientIP(r)}
	h := r.Header.Get("Authorization")
	if h == "" {
		return cr, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "basic") {
		return cr, &oauth.Error{Code: oauth.ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
			Description: "authenticate the client with HTTP Basic or in the body"}
	}
	bad := &oauth.Error{Code: oauth.ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
		Description: "the Basic credentials are malformed"}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return cr, bad
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cr, bad
	}
	if cr.BasicID, err = url.QueryUnescape(id); err != nil {
		return cr, bad
	}
	if cr.BasicSecret, err = url.QueryUnescape(secret); err != nil {
		return cr, bad
	}
	cr.Basic = true
	return cr, nil
}

// authClient reads the form and authenticates the client.
func (s *Server) authClient(w http.ResponseWriter, r *http.Request) (oauth.Form, oauth.Credentials, error) {
	if s.oauth == nil {
		return oauth.Form{}, oauth.Credentials{}, errOAuthOff
	}
	f, err := readForm(w, r)
	if err != nil {
		return f, oauth.Credentials{}, err
	}
	cr, err := s.credentials(r, f)
	return f, cr, err
}

// token serves POST /oauth2/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	f, cr, err := s.authClient(w, r)
	if err == nil {
		var resp oauth.TokenResponse
		c, err := s.oauth.Authenticate(r.Context(), cr)
		if err == nil {
			if resp, err = s.oauth.Token(r.Context(), c, f, cr.IP); err == nil {
				writeOAuth(w, http.StatusOK, resp)
				return
			}
		}
		s.oauthFail(w, r, err)
		return
	}
	s.oauthFail(w, r, notFoundIfOff(err))
}

// introspect serves POST /oauth2/introspect (RFC 7662). The caller is an
// authenticated OAuth client, or presents an admin or verify key as a
// bearer token.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil {
		s.oauthFail(w, r, notFoundIfOff(errOAuthOff))
		return
	}
	if _, ok := bearer(r); ok {
		if _, err := s.authenticate(r, []string{apikey.ScopeAdmin, apikey.ScopeVerify}); err != nil {
			s.oauthFail(w, r, err)
			return
		}
		f, err := readForm(w, r)
		if err != nil {
			s.oauthFail(w, r, err)
			return
		}
		s.answerIntrospection(w, r, f)
		return
	}
	f, cr, err := s.authClient(w, r)
	if err == nil {
		_, err = s.oauth.Authenticate(r.Context(), cr)
	}
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	s.answerIntrospection(w, r, f)
}

func (s *Server) answerIntrospection(w http.ResponseWriter, r *http.Request, f oauth.Form) {
	res, err := s.oauth.Introspect(r.Context(), f.Get("token"), f.Get("client_ip"))
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	writeOAuth(w, http.StatusOK, res)
}

// revoke serves POST /oauth2/revoke (RFC 7009): 200 with an empty body
// whether or not there was anything to revoke.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	f, cr, err := s.authClient(w, r)
	if err == nil {
		c, err := s.oauth.Authenticate(r.Context(), cr)
		if err == nil {
			err = s.oauth.Revoke(r.Context(), c, f.Get("token"), cr.IP)
		}
		if err == nil {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			return
		}
		s.oauthFail(w, r, err)
		return
	}
	s.oauthFail(w, r, notFoundIfOff(err))
}

// metadata serves the RFC 8414 document, at both well-known paths.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	body, err := json.Marshal(s.oauth.Metadata())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(body)
}

func notFoundIfOff(err error) error {
	if errors.Is(err, errOAuthOff) {
		return store.ErrNotFound
	}
	return err
}
