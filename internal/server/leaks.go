package server

import (
	"context"
	"net/http"

	"github.com/tokend/tokend/api"
)

// leakReporter runs h, the leaked-token report, for anyone, after
// counting the report against its address's limit (package leak), so
// that a flood is refused before its bodies are read.
func (s *Server) leakReporter(h callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.clientIP(r)
		if err := s.leaks.Admit(ip); err != nil {
			s.fail(w, r, err)
			return
		}
		h.serveCaller(w, r, principal{ip: ip})
	})
}

// reportLeak answers POST /v1/leaked-tokens: 202 with the same receipt
// whatever the token was (package leak revokes it if it is live).
func (s *Server) reportLeak(ctx context.Context, c call, req *api.LeakReport) (api.LeakReceipt, error) {
	if err := s.leaks.Report(ctx, c.p.ip, req.Token, req.URL); err != nil {
		return api.LeakReceipt{}, err
	}
	return api.LeakReceipt{Status: "received"}, nil
}
