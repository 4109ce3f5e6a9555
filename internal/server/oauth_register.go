package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/tokend/tokend/internal/jsonkeys"
	"github.com/tokend/tokend/internal/oauth"
)

// The dynamic client registration endpoints (RFC 7591, RFC 7592) take and
// give JSON but answer errors as OAuth bodies. Unknown metadata is
// ignored, as RFC 7591 §2 requires, so their bodies are decoded leniently;
// but a repeated member, or a member that is a known name in another case
// (which encoding/json would take as that name), is refused (jsonkeys).
// They authenticate with a bearer token of their own (an initial access
// token, a registration access token), which package oauth checks.

// regCall is what a registration endpoint receives.
type regCall struct {
	r     *http.Request
	token string // the bearer token, if any
	ip    string
}

// regEndpoint is a registration endpoint.
type regEndpoint[Req, Resp any] struct {
	s      *Server
	status int
	fn     func(context.Context, regCall, *Req) (Resp, error)
}

// oauthJSON adapts a registration endpoint written as func(ctx, call,
// req) (resp, error) to HTTP: 404 unless registration is enabled; the
// body (POST and PUT) read as client metadata; fn's answer or error
// written as OAuth answers are, never cached. A status of 204 answers
// without a body.
func oauthJSON[Req, Resp any](s *Server, status int, fn func(context.Context, regCall, *Req) (Resp, error)) http.Handler {
	return regEndpoint[Req, Resp]{s: s, status: status, fn: fn}
}

func (e regEndpoint[Req, Resp]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := e.s
	if s.oauth == nil || !s.oauth.RegistrationEnabled() {
		s.oauthFail(w, r, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusNotFound,
			Description: "dynamic client registration is not enabled"})
		return
	}
	req := new(Req)
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := decodeRegistration(w, r, req); err != nil {
			s.oauthFail(w, r, err)
			return
		}
	}
	token, _ := bearer(r)
	resp, err := e.fn(r.Context(), regCall{r: r, token: token, ip: s.clientIP(r)}, req)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	if e.status == http.StatusNoContent {
		oauthHeaders(w)
		w.WriteHeader(e.status)
		return
	}
	s.writeOAuth(w, r, e.status, resp)
}

func decodeRegistration(w http.ResponseWriter, r *http.Request, dst any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, oauth.MaxFormBytes))
	if err != nil {
		return &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body could not be read or exceeds " + strconv.Itoa(oauth.MaxFormBytes) + " bytes"}
	}
	if !utf8.Valid(body) {
		return &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest,
			Description: "the body must be valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		desc := "the body must be one JSON object of client metadata"
		if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && typ.Field != "" {
			// The member's name, never its value.
			desc = "client metadata " + strconv.Quote(typ.Field) + " must be " + typeName(typ)
		}
		return &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest, Description: desc}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) || isNull(body) {
		return &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest,
			Description: "the body must be one JSON object of client metadata"}
	}
	if err := jsonkeys.Check(body, reflect.TypeOf(dst), jsonkeys.Lenient); err != nil {
		desc := "the body must be one JSON object of client metadata"
		if e, ok := errors.AsType[*jsonkeys.Error](err); ok && e.Known != "" {
			desc = fmt.Sprintf("client metadata names are case-sensitive: %q is not %q", e.Field, e.Known)
		} else if ok {
			desc = e.Error()
		}
		return &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest, Description: desc}
	}
	return nil
}

// register serves POST /oauth2/register.
func (s *Server) register(ctx context.Context, c regCall, req *oauth.Registration) (oauth.RegistrationResponse, error) {
	return s.oauth.Register(ctx, c.token, c.ip, *req)
}

// readRegistration serves GET /oauth2/register/{id}.
func (s *Server) readRegistration(ctx context.Context, c regCall, _ *none) (oauth.RegistrationResponse, error) {
	return s.oauth.ReadRegistration(ctx, c.r.PathValue("id"), c.token)
}

// updateRegistration serves PUT /oauth2/register/{id}.
func (s *Server) updateRegistration(ctx context.Context, c regCall, req *oauth.Registration) (oauth.RegistrationResponse, error) {
	return s.oauth.UpdateRegistration(ctx, c.r.PathValue("id"), c.token, c.ip, *req)
}

// deleteRegistration serves DELETE /oauth2/register/{id}.
func (s *Server) deleteRegistration(ctx context.Context, c regCall, _ *none) (none, error) {
	return none{}, s.oauth.DeleteRegistration(ctx, c.r.PathValue("id"), c.token, c.ip)
}
