package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
)

// call is what an endpoint receives: the authenticated actor and the
// request, for path values and query parameters.
type call struct {
	by audit.Actor
	r  *http.Request
}

// none is the request type of endpoints without a body.
type none struct{}

// handle adapts an endpoint written as func(ctx, call, req) (resp, error)
// to HTTP: it authenticates the caller for one of scopes, decodes the body
// strictly (bodies of POST and PATCH only), calls fn, maps its error and
// encodes the answer with status.
func handle[Req, Resp any](s *Server, scopes []string, status int, fn func(context.Context, call, *Req) (Resp, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		by, err := s.authenticate(r, scopes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req := new(Req)
		if (r.Method == http.MethodPost || r.Method == http.MethodPatch) && !emptyBody(r) {
			if err := decode(w, r, req); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		resp, err := fn(r.Context(), call{by: by, r: r}, req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, resp)
	})
}

// emptyBody reports a request without a body and without a content type:
// it stands for an empty request, so that "POST /v1/keys/{id}/rotate"
// needs no "{}".
func emptyBody(r *http.Request) bool {
	return r.ContentLength == 0 && r.Header.Get("Content-Type") == ""
}

// badRequest is a request the server could not read; its text is public.
type badRequest struct {
	status int
	code   string
	msg    string
	field  string
}

func (e *badRequest) Error() string { return e.msg }

// decode reads exactly one JSON value of at most MaxBodyBytes into dst,
// refusing unknown fields, wrong types and trailing data.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return &badRequest{http.StatusUnsupportedMediaType, api.ErrUnsupportedMedia, "the body must be application/json", ""}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body must hold exactly one JSON object", ""}
	}
	return nil
}

// isJSON reports an application/json content type, parameters allowed.
// The exact value is checked first because ParseMediaType allocates.
func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// decodeError turns a json error into a public message that names the
// field but never echoes the value (it could be a secret).
func decodeError(err error) error {
	var (
		tooBig *http.MaxBytesError
		typ    *json.UnmarshalTypeError
		syn    *json.SyntaxError
	)
	switch {
	case errors.As(err, &tooBig):
		return &badRequest{http.StatusRequestEntityTooLarge, api.ErrBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes), ""}
	case errors.As(err, &typ):
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, fmt.Sprintf("field %q must be %s", typ.Field, typeName(typ)), typ.Field}
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body is not valid JSON", ""}
	}
	if f, ok := unknownField(err); ok {
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, fmt.Sprintf("unknown field %s", f), ""}
	}
	return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body could not be read as the expected JSON object", ""}
}

func typeName(e *json.UnmarshalTypeError) string {
	if e.Type == nil {
		return "of another type"
	}
	switch e.Type.Kind().String() {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	case "int64", "int", "float64":
		return "a number"
	}
	return "a " + e.Type.String()
}

func unknownField(err error) (string, bool) {
	const p = "json: unknown field "
	if s := err.Error(); len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
