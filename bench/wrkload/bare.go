package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/tokend/tokend/api"
)

// serveBare is the bare handler process ("wrkload bare"): the cost of
// HTTP and of reading the body on this machine, without tokend. It
// listens on 127.0.0.1, prints its address and serves until killed:
//
//   - POST /v1/verify decodes the body strictly into api.VerifyRequest,
//     as tokend does, and answers a fixed small JSON;
//   - POST /oauth2/token parses the form body and answers a fixed token
//     response.
func serveBare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	pprofAddr := fs.String("pprof-addr", "", "loopback address for net/http/pprof (default off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		go http.ListenAndServe(*pprofAddr, mux)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	os.Stdout.Sync()
	srv := &http.Server{Handler: bareMux(), ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}

func bareMux() *http.ServeMux {
	verifyAnswer, _ := json.Marshal(api.VerifyResponse{Valid: true, Code: api.CodeValid})
	tokenAnswer, _ := json.Marshal(map[string]any{"access_token": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "token_type": "Bearer",
		"expires_in": 3600, "scope": "read"})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/verify", func(w http.ResponseWriter, r *http.Request) {
		var req api.VerifyRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || req.Token == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(verifyAnswer)
	})
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(tokenAnswer)
	})
	return mux
}
