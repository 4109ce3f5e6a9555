package web

import (
	"io/fs"
	"net/http"
	"strings"
)

// routes lists every page the Site serves. Patterns name their method,
// so that a GET never changes anything and every POST passes the
// cross-origin check of protect.
func (s *Site) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static())

	mux.HandleFunc("GET /set-password", s.setPasswordForm)
	mux.HandleFunc("POST /set-password", s.setPassword)

	mux.Handle("/", s.notFound(mux))
	return mux
}

// static serves the embedded stylesheet and scripts, without directory
// listings.
func (s *Site) static() http.Handler {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed pattern names the directory: cannot happen
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			s.fail(w, r, errNoPage)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// notFound answers what no route matched: a 405 page with Allow when the
// path exists for another method, else a 404 page.
func (s *Site) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "/" && p != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, errMethod)
			return
		}
		s.fail(w, r, errNoPage)
	})
}
