package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/jsonlog"
	"github.com/tokend/tokend/internal/oauth"
)

// The names of the headers every request is asked for, as http.Header
// keys them (http.CanonicalHeaderKey, tested): looked up by these keys
// directly, a name is not canonicalized again on every request, which for
// "DPoP" (keyed "Dpop") also allocated a string.
const (
	keyAuthorization = "Authorization"
	keyContentType   = "Content-Type"
	keyDPoP          = "Dpop"
	keyOrigin        = "Origin"
)

// firstHeader is h.Get(key) for a key in canonical form.
func firstHeader(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusClientGone is the status logged for a request whose client went
// away before the answer (nginx's 499): the status written, if any, never
// reached anyone.
const statusClientGone = 499

// watchedBody notes a request body cut short: the client closed the
// connection or stopped sending before Content-Length was reached.
type watchedBody struct {
	io.ReadCloser
	cut bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && (errors.Is(err, io.ErrUnexpectedEOF) || isNetError(err)) {
		b.cut = true
	}
	return n, err
}

func isNetError(err error) bool {
	_, ok := errors.AsType[net.Error](err)
	return ok
}

// logged is the per-request state of logRequests.
type logged struct {
	sw   statusWriter
	body watchedBody
	id   [1]string // the X-Request-Id header's value
}

// logRequests gives each request an id (X-Request-Id) and logs one line
// when it ends. The line holds the path but never the query string or a
// header, so that no credential can reach the log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		// One allocation holds what the request needs beside its id.
		st := &logged{sw: statusWriter{ResponseWriter: w}, body: watchedBody{ReadCloser: r.Body}}
		sw, body := &st.sw, &st.body
		var idBuf [32]byte // the prefix (9 bytes) and a uint64 in base 36 (at most 13)
		id := string(strconv.AppendUint(append(idBuf[:0], s.reqPfx...), s.reqSeq.Add(1), 36))
		st.id[0] = id
		h := w.Header()
		h["X-Request-Id"] = st.id[:]
		h["X-Content-Type-Options"] = headerNosniff
		if s.hsts {
			h["Strict-Transport-Security"] = headerHSTS
		}
		if r.Body != nil {
			r.Body = body
		}
		next.ServeHTTP(sw, r)
		status := sw.status
		if body.cut || errors.Is(r.Context().Err(), context.Canceled) {
			status = statusClientGone
		}
		end := s.now()
		s.accessLog(r.Context(), levelFor(status), end, &accessLine{id: id, method: r.Method,
			path: redactCredentials(r.URL.Path), route: r.Pattern, status: status, duration: end.Sub(start), remote: s.clientIP(r)})
	})
}

// accessLine is what the access log records of a request, in the order
// of the line's members.
type accessLine struct {
	id, method, path, route string
	status                  int
	duration                time.Duration
	remote                  string
}

// accessLog writes the access log line as s.log.LogAttrs would, but
// stamped with end, the clock reading the duration ends at, and without
// the caller's program counter, which only a handler recording the
// source (tokend's never do) would use: runtime.Callers and a second
// clock reading were a fifth of the line's cost, on every request.
//
// When the logger is tokend's JSON handler (jsonlog) and every string of
// the line needs no escaping, the line is appended by hand into a pooled
// buffer, to the bytes slog would write (tested against slog): slog's
// record, attributes and escaping were most of the cost of a cached
// verification's log line. Anything else goes through slog.
func (s *Server) accessLog(ctx context.Context, level slog.Level, end time.Time, l *accessLine) {
	h := s.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	if jh, ok := h.(*jsonlog.Handler); ok && l.plain() && !end.IsZero() && end.Year() >= 0 && end.Year() <= 9999 {
		buf := s.getBuf()
		buf.Grow(512) // once per pooled buffer: a line with a path of 200 bytes fits
		// As slog.Logger does, a failed write is not the request's failure.
		jh.WriteLine(l.appendJSON(buf.AvailableBuffer(), level, end))
		s.putBuf(buf)
		return
	}
	rec := slog.NewRecord(end, level, "request", 0)
	rec.AddAttrs(slog.String("request_id", l.id), slog.String("method", l.method), slog.String("path", l.path),
		slog.String("route", l.route), slog.Int("status", l.status), slog.Duration("duration", l.duration),
		slog.String("remote", l.remote))
	h.Handle(ctx, rec)
}

// plain reports whether every string of l is printable ASCII without '"'
// or a backslash: slog writes such a string as it is, between quotes.
func (l *accessLine) plain() bool {
	return plainJSON(l.id) && plainJSON(l.method) && plainJSON(l.path) && plainJSON(l.route) && plainJSON(l.remote)
}

func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendJSON appends the line slog's JSON handler writes for l at level
// and end (time in RFC 3339 with nanoseconds, the duration in
// nanoseconds), for a plain l and an end that is not the zero time
// (slog leaves that out) and whose year is within 0–9999 (slog adds an
// error to the line outside).
func (l *accessLine) appendJSON(dst []byte, level slog.Level, end time.Time) []byte {
	dst = append(dst, `{"time":"`...)
	dst = end.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","level":"`...)
	dst = append(dst, level.String()...)
	dst = append(dst, `","msg":"request","request_id":"`...)
	dst = append(dst, l.id...)
	dst = append(dst, `","method":"`...)
	dst = append(dst, l.method...)
	dst = append(dst, `","path":"`...)
	dst = append(dst, l.path...)
	dst = append(dst, `","route":"`...)
	dst = append(dst, l.route...)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(l.status), 10)
	dst = append(dst, `,"duration":`...)
	dst = strconv.AppendInt(dst, int64(l.duration), 10)
	dst = append(dst, `,"remote":"`...)
	dst = append(dst, l.remote...)
	return append(dst, "\"}\n"...)
}

// tokenParams are query parameters that name a credential. Any value in
// them, and any value anywhere that has the shape of a tokend token, is
// refused: URLs end up in logs, browser history and Referer headers.
var tokenParams = []string{"access_token", "token", "api_key", "apikey", "key", "secret", "client_secret", "refresh_token"}

// refuseTokensInURL refuses, before routing, a request that carries a
// credential where none may go or more than one way: a credential in the
// query or the path, or a second Authorization header.
func (s *Server) refuseTokensInURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.RawQuery
		if r.URL.Path == oauth.EndSessionPath {
			// RP-initiated logout sends the ID token as id_token_hint in
			// the query (OIDC RP-Initiated Logout §2). An ID token is
			// no credential at tokend; the access log keeps no query.
			q = dropParam(q, "id_token_hint")
		}
		switch {
		case (q != "" && hasToken(q)) || containsCredential(r.URL.Path):
			s.refuse(w, r, &authError{http.StatusBadRequest, api.ErrTokenInURL,
				"credentials must not be sent in a URL; send them in the Authorization header or the body", ""})
		case len(r.Header[keyAuthorization]) > 1:
			// Proxies and servers may pick different ones of two
			// headers; tokend picks none (as tokenauth does).
			s.refuse(w, r, &authError{http.StatusBadRequest, api.ErrBadRequest,
				"send one Authorization header", `Bearer realm="tokend", error="invalid_request"`})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// refuse answers a request refused before routing in the format of the
// endpoint it was sent to: RFC 6749 §5.2's invalid_request at the OAuth
// endpoints, whose clients read nothing else, a problem elsewhere.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, e *authError) {
	if isOAuthPath(r.URL.Path) {
		s.oauthFail(w, r, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: e.status, Description: e.msg})
		return
	}
	s.fail(w, r, e)
}

// isOAuthPath reports a path of the OAuth endpoints that answer JSON
// (token, introspection, revocation, PAR, device authorization,
// userinfo, registration), rather than a page.
func isOAuthPath(path string) bool {
	return strings.HasPrefix(path, "/oauth2/") && !slices.Contains(pagePaths, path)
}

// hasToken reports a query string that names a credential parameter or
// holds a credential anywhere in a name or value ("?q=Bearer%20<token>").
// It splits on '&' and ';' and decodes leniently rather than with
// url.ParseQuery, so that a query Go cannot parse ("?a=1;&token=x") is
// judged the same way instead of being waved through.
func hasToken(rawQuery string) bool {
	if containsCredential(rawQuery) {
		return true
	}
	for pair := range strings.FieldsFuncSeq(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		name, value, _ := strings.Cut(pair, "=")
		name, value = lenientUnescape(name), lenientUnescape(value)
		for _, p := range tokenParams {
			if strings.EqualFold(strings.TrimSpace(name), p) {
				return true
			}
		}
		if containsCredential(name) || containsCredential(value) {
			return true
		}
	}
	return false
}

// lenientUnescape decodes '+' and every well-formed %XX escape of s and
// keeps malformed escapes as they are, so that one bad escape cannot hide
// the rest of a value.
func lenientUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b = append(b, ' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// notFound answers requests no route matched: 405 with Allow when the
// path exists for other methods, 404 otherwise, as problem documents.
// Allow lists HEAD with GET, since the mux serves HEAD wherever it serves
// GET (RFC 9110 §10.2.1 lists what the resource supports).
func notFound(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); routeFor(p, r.URL.Path) {
				allow = append(allow, m)
				if m == "GET" {
					allow = append(allow, "HEAD")
				}
			}
		}
		p := api.Problem{Status: http.StatusNotFound, Type: api.ErrNotFound,
			Detail: "no such endpoint; see /v1/openapi.json", RequestID: w.Header().Get("X-Request-Id")}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p.Status, p.Type, p.Detail = http.StatusMethodNotAllowed, api.ErrMethodNotAllowed, "this endpoint accepts "+strings.Join(allow, ", ")
		}
		writeProblem(w, p)
	}
}

// routeFor reports whether the mux's pattern p for path is a route that
// serves it: not the fallback "/", and not a subtree such as
// /v1/authz/{path...} that the mux matched only to redirect path to
// path+"/".
func routeFor(p, path string) bool {
	_, pp, ok := strings.Cut(p, " ")
	if !ok {
		return false
	}
	if i := strings.LastIndex(pp, "/{"); i >= 0 && strings.HasSuffix(pp, "...}") {
		return strings.HasPrefix(path, pp[:i+1])
	}
	return true
}

// mustJSON encodes v without HTML escaping, so that a detail such as
// "Bearer <key>" reads as written rather than as "Bearer \u003ckey\u003e";
// answers are application/json, never HTML.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only ever called with plain structs
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// levelFor logs server faults as errors, client faults as warnings and
// the rest as info.
func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// dropParam returns rawQuery without the parameters named name.
func dropParam(rawQuery, name string) string {
	var kept []string
	for pair := range strings.FieldsFuncSeq(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		n, _, _ := strings.Cut(pair, "=")
		if lenientUnescape(n) != name {
			kept = append(kept, pair)
		}
	}
	return strings.Join(kept, "&")
}
