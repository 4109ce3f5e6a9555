package server

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/tokend/tokend/api"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, api.Health{Status: "ok"})
}

// readyz reports whether this node can serve: the database answers within
// a second, and whatever Config.Ready adds.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	h := api.Health{Status: "ok", Details: map[string]string{"database": s.database.Dialect()}}
	ok := true
	if err := s.database.Ping(ctx); err != nil {
		// The endpoint is public: the reason stays generic, the cause
		// (hosts, users, database names) goes to the log.
		h.Details["database"] = s.database.Dialect() + ": unreachable"
		s.log.WarnContext(r.Context(), "readiness: the database does not answer", "err", err)
		ok = false
	}
	if s.ready != nil {
		more, fine := s.ready(ctx)
		for k, v := range more {
			h.Details[k] = v
		}
		ok = ok && fine
	}
	status := http.StatusOK
	if !ok {
		h.Status, status = "unavailable", http.StatusServiceUnavailable
	}
	s.writeJSON(w, r, status, h)
}

//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
