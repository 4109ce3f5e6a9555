package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/tokend/tokend/internal/oauth"
)

// The dynamic client registration endpoints (RFC 7591, RFC 7592) take and
// give JSON but answer errors as OAuth bodies. Unknown metadata is
// ignored, as RFC 7591 §2 requires, so their bodies are decoded leniently.

func readRegistration(w http.ResponseWriter, r *http.Request) (oauth.Registration, error) {
	var req oauth.Registration
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return req, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusBadRequest,
			Description: "the body must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, oauth.MaxFormBytes))
	if err := dec.Decode(&req); err != nil {
		return req, &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest,
			Description: "the body must be one JSON object of client metadata"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, &oauth.Error{Code: oauth.ErrInvalidClientMetadata, Status: http.StatusBadRequest,
			Description: "the body must be one JSON object of client metadata"}
	}
	return req, nil
}

// register serves POST /oauth2/register.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil || !s.oauth.RegistrationEnabled() {
		s.oauthFail(w, r, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusNotFound,
			Description: "dynamic client registration is not enabled"})
		return
	}
	req, err := readRegistration(w, r)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	initial, _ := bearer(r)
	res, err := s.oauth.Register(r.Context(), initial, clientIP(r), req)
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	writeOAuth(w, http.StatusCreated, res)
}

// registration serves GET, PUT and DELETE /oauth2/register/{id}, each
// authenticated with the client's registration access token.
func (s *Server) registration(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil || !s.oauth.RegistrationEnabled() {
		s.oauthFail(w, r, &oauth.Error{Code: oauth.ErrInvalidRequest, Status: http.StatusNotFound,
			Description: "dynamic client registration is not enabled"})
		return
	}
	token, _ := bearer(r)
	id := r.PathValue("id")
	var res oauth.RegistrationResponse
	var err error
	switch r.Method {
	case http.MethodGet:
		res, err = s.oauth.ReadRegistration(r.Context(), id, token)
	case http.MethodPut:
		var req oauth.Registration
		if req, err = readRegistration(w, r); err == nil {
			res, err = s.oauth.UpdateRegistration(r.Context(), id, token, clientIP(r), req)
		}
	case http.MethodDelete:
		if err = s.oauth.DeleteRegistration(r.Context(), id, token, clientIP(r)); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if err != nil {
		s.oauthFail(w, r, err)
		return
	}
	writeOAuth(w, http.StatusOK, res)
}
