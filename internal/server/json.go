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
	"strings"
	"sync"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/jsonkeys"
)

// call is what an endpoint receives: the principal the middleware
// resolved, and the request, for path values and query parameters.
type call struct {
	p principal
	r *http.Request
}

// by is the caller as the audit log records it.
func (c call) by() audit.Actor { return c.p.actor() }

// none is the request type of endpoints without a body.
type none struct{}

// endpoint is a JSON endpoint behind the principal middleware.
type endpoint[Req, Resp any] struct {
	s      *Server
	status int
	fn     func(context.Context, call, *Req) (Resp, error)
}

// handle adapts an endpoint written as func(ctx, call, req) (resp, error)
// to HTTP, behind Server.caller: it decodes the body strictly (bodies of
// POST, PATCH and PUT only), calls fn, maps its error and encodes the answer
// with status.
func handle[Req, Resp any](s *Server, status int, fn func(context.Context, call, *Req) (Resp, error)) callerHandler {
	return endpoint[Req, Resp]{s: s, status: status, fn: fn}
}

func (e endpoint[Req, Resp]) serveCaller(w http.ResponseWriter, r *http.Request, p principal) {
	req := new(Req)
	if (r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut) && !emptyBody(r) {
		if err := decode(w, r, req); err != nil {
			e.s.fail(w, r, err)
			return
		}
	}
	resp, err := e.fn(r.Context(), call{p: p, r: r}, req)
	if err != nil {
		e.s.fail(w, r, err)
		return
	}
	if e.status == http.StatusNoContent {
		w.WriteHeader(e.status)
		return
	}
	e.s.writeJSON(w, r, e.status, resp)
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
// refusing unknown fields, field names in another case, repeated keys,
// wrong types and trailing data. The body is read whole into a pooled
// buffer: encoding/json must see it all before it decodes anyway, and
// jsonkeys then checks its keys against dst's type, which encoding/json
// (v1) matches without regard to case and lets repeat.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return &badRequest{http.StatusUnsupportedMediaType, api.ErrUnsupportedMedia, "the body must be application/json", ""}
	}
	buf := getBodyBuf()
	defer putBodyBuf(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		return decodeError(err, body)
	}
	if v, ok := dst.(*api.VerifyRequest); ok && decodeVerifyFast(body, v) {
		return nil // the hot path's common body, decoded as below would
	}
	switch err = jsonkeys.Unmarshal(body, dst, jsonkeys.Strict); {
	case err == nil && isNull(body):
		// encoding/json decodes null into a struct as nothing at all,
		// which would make null stand for {} (and for a body-less POST
		// such as a revocation): it is not an object.
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body must be a JSON object, not null", ""}
	case err == nil:
		return nil
	case errors.Is(err, jsonkeys.ErrNotUTF8):
		// encoding/json lets invalid UTF-8 through into raw fields
		// (metadata, jwks), which PostgreSQL refuses and SQLite would
		// echo back as invalid JSON.
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body is not valid UTF-8", ""}
	case isKeyError(err):
		return keyError(err)
	}
	return decodeError(err, body) // not JSON, or a wrong type
}

// isNull reports a body that is the JSON value null, the one value
// other than an object that decodes into a struct without an error.
func isNull(body []byte) bool {
	return bytes.Equal(bytes.Trim(body, " \t\r\n"), []byte("null"))
}

// isKeyError reports an error of jsonkeys.Check.
func isKeyError(err error) bool {
	_, ok := errors.AsType[*jsonkeys.Error](err)
	return ok || errors.Is(err, jsonkeys.ErrMalformed)
}

// keyError turns a jsonkeys error into a bad request that names the
// field (never a key inside free-form data such as metadata).
func keyError(err error) error {
	var e *jsonkeys.Error
	if !errors.As(err, &e) {
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, "the body could not be read as the expected JSON object", ""}
	}
	return &badRequest{http.StatusBadRequest, api.ErrBadRequest, e.Error(), e.Field}
}

// bodyBufs holds the buffers decode reads bodies into.
var bodyBufs sync.Pool

func getBodyBuf() *bytes.Buffer {
	if b, ok := bodyBufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return bytes.NewBuffer(make([]byte, 0, 1024))
}

// putBodyBuf returns b to the pool unless an unusually large body grew
// it, which would then be held forever. decode's callers keep nothing of
// the body (encoding/json copies what it keeps, json.RawMessage too).
func putBodyBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		b.Reset()
		bodyBufs.Put(b)
	}
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
// field, or the line and column of a syntax error in seen (the body, or
// what was read of it), but never echoes the value (it could be a secret).
func decodeError(err error, seen []byte) error {
	var (
		tooBig *http.MaxBytesError
		typ    *json.UnmarshalTypeError
		syn    *json.SyntaxError
	)
	bad := func(msg string) error { return &badRequest{http.StatusBadRequest, api.ErrBadRequest, msg, ""} }
	switch {
	case errors.As(err, &tooBig):
		return &badRequest{http.StatusRequestEntityTooLarge, api.ErrBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBodyBytes), ""}
	case errors.As(err, &typ) && typ.Field == "":
		return bad(fmt.Sprintf("the body must be a JSON object, not %s", jsonKind(typ.Value)))
	case errors.As(err, &typ):
		return &badRequest{http.StatusBadRequest, api.ErrBadRequest, fmt.Sprintf("field %q must be %s", typ.Field, typeName(typ)), typ.Field}
	case (errors.As(err, &syn) || errors.Is(err, io.EOF)) && len(bytes.TrimSpace(seen)) == 0:
		return bad("the body is empty; send a JSON object, such as {}")
	case errors.As(err, &syn) && strings.HasSuffix(syn.Error(), "after top-level value"):
		return bad("the body must hold exactly one JSON object")
	case errors.As(err, &syn) && syn.Error() == "unexpected end of JSON input", errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(seen, int64(len(seen))+1)
		return bad(fmt.Sprintf("the body is not valid JSON: it ends early, at line %d, column %d", line, col))
	case errors.As(err, &syn):
		line, col := position(seen, syn.Offset)
		return bad(fmt.Sprintf("the body is not valid JSON: line %d, column %d: %s", line, col, syntaxReason(syn)))
	}
	if f, ok := unknownField(err); ok {
		return bad(fmt.Sprintf("unknown field %s", f))
	}
	return bad("the body could not be read as the expected JSON object")
}

// position turns the offset of a json.SyntaxError (the count of bytes
// scanned when it was found, so the bad byte is the last of them) into a
// 1-based line and column.
func position(b []byte, offset int64) (line, col int) {
	offset = max(1, min(offset, int64(len(b))+1))
	before := b[:offset-1]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// syntaxReason is the json package's description of a syntax error
// without the character it quotes: the line and column point at it, and
// even one character of a secret stays out of the answer.
func syntaxReason(e *json.SyntaxError) string {
	const p = "invalid character "
	msg := e.Error()
	if rest, ok := strings.CutPrefix(msg, p); ok && len(rest) > 1 {
		if i := strings.Index(rest[1:], "' "); i >= 0 {
			return "unexpected character, " + rest[i+3:]
		}
	}
	return msg
}

// jsonKind names what UnmarshalTypeError.Value says the body held.
func jsonKind(v string) string {
	switch v {
	case "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "null":
		return "null"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return "another JSON value"
}

func typeName(e *json.UnmarshalTypeError) string {
	if e.Type == nil {
		return "of another type"
	}
	if e.Type == api.DurationType {
		return api.DurationExample
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

// writeJSON encodes v into a buffer first and only then writes the status
// and the body, so that a value that cannot be encoded is answered with a
// 500 problem (logged), never with an empty 200 (review item L12).
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf := s.getBuf()
	defer s.putBuf(buf)
	buf.Grow(1024) // once per pooled buffer: a token or a verification answer fits
	body, ok := appendAnswer(buf.AvailableBuffer(), v)
	if ok {
		body = append(body, '\n')
	} else if err := json.NewEncoder(buf).Encode(v); err != nil {
		s.fail(w, r, fmt.Errorf("encode answer: %w", err))
		return
	} else {
		body = buf.Bytes()
	}
	h := w.Header()
	h["Content-Type"] = headerJSON
	h["Cache-Control"] = headerNoStore
	w.WriteHeader(status)
	w.Write(body)
}

// appendAnswer appends the answers of the hot paths, which encode
// themselves to exactly the bytes encoding/json would write, without
// reflection; it reports false for every other answer, and for one it
// leaves to encoding/json.
func appendAnswer(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case jsonAppender:
		return v.AppendJSON(dst), true
	case *api.VerifyResponse:
		return appendVerifyResponse(dst, v)
	}
	return dst, false
}

// jsonAppender is an answer of a hot path that encodes itself, to exactly
// the bytes encoding/json would write, without reflection.
type jsonAppender interface {
	AppendJSON(dst []byte) []byte
}

// Header values set on most answers, shared instead of allocated per
// answer by Header.Set. Nothing writes into a header's value slice in
// place (Header.Add appends to a slice that is full, which copies), so
// sharing them is safe; keys assigned with them must be canonical.
var (
	headerJSON    = []string{"application/json"}
	headerNoStore = []string{"no-store"}
	headerNoCache = []string{"no-cache"}
	headerNosniff = []string{"nosniff"}
	headerHSTS    = []string{"max-age=31536000"}
)

// getBuf takes a buffer from the pool, empty.
func (s *Server) getBuf() *bytes.Buffer {
	if buf, _ := s.bufs.Get().(*bytes.Buffer); buf != nil {
		return buf
	}
	return new(bytes.Buffer)
}

// putBuf returns buf to the pool unless an unusually large answer grew
// it, which would then be held forever.
func (s *Server) putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		s.bufs.Put(buf)
	}
}
