package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/dpop"
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
		case e.Code == oauth.ErrInvalidToken && e.Status == http.StatusUnauthorized && len(r.Header["Authorization"]) == 0:
			// No credential at all: no error code (RFC 6750 §3.1).
			h.Set("WWW-Authenticate", bareChallenge)
		case e.Code == oauth.ErrInvalidToken && e.Status == http.StatusUnauthorized:
			h.Set("WWW-Authenticate", `Bearer realm="tokend", error="invalid_token"`)
		case e.Code == oauth.ErrInsufficientScope:
			h.Set("WWW-Authenticate", `Bearer realm="tokend", error="insufficient_scope", scope="openid"`)
		case (e.Code == dpop.CodeInvalidProof || e.Code == dpop.CodeUseNonce) && e.Status == http.StatusUnauthorized:
			// A resource's DPoP refusal (userinfo), not the token endpoint's 400.
			h.Set("WWW-Authenticate", `DPoP realm="tokend", error="`+e.Code+`", algs="`+strings.Join(s.oauth.DPoPAlgs(), " ")+`"`)
		}
		if e.RetryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(int(e.RetryAfter/time.Second)))
		}
		if e.DPoPNonce != "" {
			h.Set("DPoP-Nonce", e.DPoPNonce)
		}
		s.writeOAuth(w, r, e.Status, oauthBody{Error: e.Code, Description: e.Description})
		return
	}
	if e, ok := errors.AsType[*authError](err); ok {
		code := oauth.ErrInvalidToken
		if e.status == http.StatusForbidden {
			code = "insufficient_scope"
		}
		h.Set("WWW-Authenticate", e.challenge)
		s.writeOAuth(w, r, e.status, oauthBody{Error: code, Description: e.msg})
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		s.writeOAuth(w, r, http.StatusNotFound, oauthBody{Error: oauth.ErrInvalidRequest, Description: "not found"})
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "request_id", h.Get("X-Request-Id"), "route", r.Pattern, "err", err)
	s.writeOAuth(w, r, http.StatusInternalServerError, oauthBody{Error: oauth.ErrServerError,
		Description: "internal error; the request id ties it to the server log"})
}

// oauthHeaders marks an OAuth answer as one no cache may keep (RFC 6749
// §5.1), errors and the bodiless revocation answer included.
func oauthHeaders(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"] = headerNoStore
	h["Pragma"] = headerNoCache
}

// writeOAuth writes v as JSON that no cache may keep.
func (s *Server) writeOAuth(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header()["Pragma"] = headerNoCache
	s.writeJSON(w, r, status, v)
}

var errOAuthOff = errors.New("oauth is not configured")

// readForm reads the form body of an OAuth request: exactly
// application/x-www-form-urlencoded, at most oauth.MaxFormBytes, parsed
// strictly by oauth.ParseForm.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (oauth.Form, error) {
	if !isForm(firstHeader(r.Header, keyContentType)) {
		return oauth.Form{}, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body must be application/x-www-form-urlencoded"}
	}
	buf, _ := s.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer s.putBuf(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, oauth.MaxFormBytes)); err != nil {
		return oauth.Form{}, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body could not be read or exceeds " + strconv.Itoa(oauth.MaxFormBytes) + " bytes"}
	}
	return oauth.ParseForm(buf.Bytes()) // the form copies what it keeps: buf goes back to the pool
}

// isForm reports an application/x-www-form-urlencoded content type,
// parameters allowed. The exact value is checked first because
// ParseMediaType allocates.
func isForm(ct string) bool {
	const form = "application/x-www-form-urlencoded"
	if ct == form {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == form
}

// credentials collects how r tries to authenticate its client. The
// Basic user and password are form-decoded (RFC 6749 §2.3.1); ip is the
// client address, resolved once by the adapter.
func (s *Server) credentials(r *http.Request, f oauth.Form, ip string) (oauth.Credentials, error) {
	cr := oauth.Credentials{Form: f, Path: r.URL.Path, IP: ip}
	h := firstHeader(r.Header, keyAuthorization)
	if h == "" {
		return cr, nil
	}
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "basic") {
		return cr, &oauth.Error{Code: oauth.ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
			Description: "authenticate the client with HTTP Basic or in the body"}
	}
	rest = strings.TrimSpace(rest)
	var buf [256]byte // an id and a secret of tokend's formats fit
	raw := buf[:0]
	if n := base64.StdEncoding.DecodedLen(len(rest)); n > len(buf) {
		raw = make([]byte, 0, n)
	}
	raw, err := base64.StdEncoding.AppendDecode(raw, []byte(rest))
	if err != nil {
		return cr, malformedBasic()
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cr, malformedBasic()
	}
	if cr.BasicID, err = formUnescape(id); err != nil {
		return cr, malformedBasic()
	}
	if cr.BasicSecret, err = formUnescape(secret); err != nil {
		return cr, malformedBasic()
	}
	cr.Basic = true
	return cr, nil
}

// formUnescape is url.QueryUnescape, answering s itself without the
// byte-by-byte pass when it holds nothing to decode, as ids and secrets
// of tokend's formats never do.
func formUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// malformedBasic is the answer to Basic credentials that do not decode.
func malformedBasic() error {
	return &oauth.Error{Code: oauth.ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
		Description: "the Basic credentials are malformed"}
}

// oauthCall is what a form-encoded OAuth endpoint receives: the strictly
// parsed form, and who called: the client that authenticated (RFC 6749
// §2.3), or, where the route allows it, the principal of an admin or
// verify key.
type oauthCall struct {
	r      *http.Request
	form   oauth.Form
	client store.Client // the authenticated client; zero when a key called
	caller principal    // the key that called; zero when a client did
	ip     string       // the client address
}

// clientOnly: no key may call the endpoint; the OAuth client
// authenticates itself.
var clientOnly []string

// oauthEndpoint is a form-encoded OAuth endpoint.
type oauthEndpoint[Resp any] struct {
	s      *Server
	keys   []string
	status int
	fn     func(context.Context, oauthCall) (Resp, error)
}

// oauthForm adapts an OAuth endpoint written as func(ctx, call) (resp,
// error) to HTTP: 404 without an OAuth service; a bearer key holding one
// of keys is resolved by the principal middleware's resolve, anything
// else reads the form and authenticates the client; then fn runs, and its
// answer or error (RFC 6749 §5.2) is written with Cache-Control: no-store
// and Pragma: no-cache. A Resp of none answers status without a body.
func oauthForm[Resp any](s *Server, keys []string, status int, fn func(context.Context, oauthCall) (Resp, error)) http.Handler {
	return oauthEndpoint[Resp]{s: s, keys: keys, status: status, fn: fn}
}

func (e oauthEndpoint[Resp]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := e.s
	if s.oauth == nil {
		s.oauthFail(w, r, store.ErrNotFound)
		return
	}
	c, err := e.authenticate(w, r)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	resp, err := e.fn(r.Context(), c)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	if _, ok := any(resp).(none); ok {
		oauthHeaders(w)
		w.WriteHeader(e.status)
		return
	}
	if t, ok := any(resp).(oauth.TokenResponse); ok && t.DPoPNonce != "" {
		w.Header().Set("DPoP-Nonce", t.DPoPNonce)
	}
	s.writeOAuth(w, r, e.status, resp)
}

// authenticate resolves who calls: a key first, before the body is read,
// as for every other bearer-authenticated route; else the client.
func (e oauthEndpoint[Resp]) authenticate(w http.ResponseWriter, r *http.Request) (oauthCall, error) {
	c := oauthCall{r: r, ip: e.s.clientIP(r)}
	var err error
	if _, ok := bearer(r); ok && e.keys != nil {
		if c.caller, err = e.s.resolve(r, e.keys); err != nil {
			return c, err
		}
		c.form, err = e.s.readForm(w, r)
		return c, err
	}
	if c.form, err = e.s.readForm(w, r); err != nil {
		return c, err
	}
	cr, err := e.s.credentials(r, c.form, c.ip)
	if err != nil {
		return c, err
	}
	c.client, err = e.s.oauth.Authenticate(r.Context(), cr)
	return c, err
}

// token serves POST /oauth2/token.
func (s *Server) token(ctx context.Context, c oauthCall) (oauth.TokenResponse, error) {
	proof, err := dpopHeader(c.r)
	if err != nil {
		return oauth.TokenResponse{}, err
	}
	return s.oauth.Token(ctx, oauth.TokenRequest{Client: c.client, Form: c.form, IP: c.ip, DPoP: proof})
}

// dpopHeader returns the request's DPoP proof: "" without one, and an
// error for several (RFC 9449 §4.3 step 1).
func dpopHeader(r *http.Request) (string, error) {
	vs := r.Header[keyDPoP]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", &oauth.Error{Code: dpop.CodeInvalidProof, Status: http.StatusBadRequest, Description: "send one DPoP header, not several"}
}

// introspect serves POST /oauth2/introspect (RFC 7662), for an
// authenticated OAuth client or an admin or verify key.
func (s *Server) introspect(ctx context.Context, c oauthCall) (oauth.Introspection, error) {
	if c.client.ID != "" {
		// A client learns only about its own tokens (RFC 7662 §4).
		return s.oauth.IntrospectFor(ctx, c.client, c.form.Get("token"), c.form.Get("client_ip"))
	}
	return s.oauth.Introspect(ctx, c.form.Get("token"), c.form.Get("client_ip"))
}

// revoke serves POST /oauth2/revoke (RFC 7009): 200 with an empty body
// whether or not there was anything to revoke.
func (s *Server) revoke(ctx context.Context, c oauthCall) (none, error) {
	return none{}, s.oauth.Revoke(ctx, c.client, c.form.Get("token"), c.ip)
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

// notFoundIfOff answers the management endpoints of OAuth clients 404
// when OAuth is not configured.
func notFoundIfOff(err error) error {
	if errors.Is(err, errOAuthOff) {
		return store.ErrNotFound
	}
	return err
}
