package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
)

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

// logRequests gives each request an id (X-Request-Id) and logs one line
// when it ends. The line holds the path but never the query string or a
// header, so that no credential can reach the log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		id := s.reqPfx + strconv.FormatUint(s.reqSeq.Add(1), 36)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.LogAttrs(r.Context(), levelFor(sw.status), "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", safePath(r.URL.Path)),
			slog.String("route", r.Pattern), slog.Int("status", sw.status),
			slog.Duration("duration", s.now().Sub(start)), slog.String("remote", clientIP(r)))
	})
}

// tokenParams are query parameters that name a credential. Any value in
// them, and any value anywhere that has the shape of a tokend token, is
// refused: URLs end up in logs, browser history and Referer headers.
var tokenParams = []string{"access_token", "token", "api_key", "apikey", "key", "secret", "client_secret", "refresh_token"}

func (s *Server) refuseTokensInURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.URL.RawQuery != "" && hasToken(r.URL.RawQuery)) || safePath(r.URL.Path) != r.URL.Path {
			writeProblem(w, api.Problem{Status: http.StatusBadRequest, Type: api.ErrTokenInURL,
				Detail:    "credentials must not be sent in a URL; send them in the Authorization header or the body",
				RequestID: w.Header().Get("X-Request-Id")})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasToken(rawQuery string) bool {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return strings.Contains(rawQuery, "_") // unparseable: judge conservatively below
	}
	for name, vs := range q {
		for _, p := range tokenParams {
			if strings.EqualFold(name, p) {
				return true
			}
		}
		for _, v := range vs {
			if looksLikeCredential(v) {
				return true
			}
		}
	}
	return false
}

// looksLikeCredential reports a well-formed tokend token or a JWT.
func looksLikeCredential(v string) bool {
	if _, ok := credential.Parse(v); ok {
		return true
	}
	return strings.HasPrefix(v, "eyJ") && strings.Count(v, ".") == 2
}

// safePath returns p, or a placeholder when a segment of p is a
// credential, so that the access log never holds one.
func safePath(p string) string {
	for seg := range strings.SplitSeq(p, "/") {
		if looksLikeCredential(seg) {
			return "/(redacted: credential in path)"
		}
	}
	return p
}

// notFound answers requests no route matched: 405 with Allow when the
// path exists for other methods, 404 otherwise, as problem documents.
func notFound(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "/" && p != "" {
				allow = append(allow, m)
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

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only ever called with plain structs
	}
	return b
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
