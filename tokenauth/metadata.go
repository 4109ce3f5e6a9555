package tokenauth

import (
	"encoding/json"
	"net/http"
	"slices"
)

// ResourceMetadata is an RFC 9728 protected-resource metadata document.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	// DPoPSigningAlgValuesSupported are the DPoP proof algorithms
	// accepted (RFC 9728 §2).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// Metadata returns this resource server's RFC 9728 metadata: Resource,
// tokend's Issuer as its authorization server, the supported scopes
// (Config.ScopesSupported, or every scope required so far) and the one
// bearer method accepted, the Authorization header, and the DPoP proof
// algorithms accepted.
func (a *Auth) Metadata() ResourceMetadata {
	scopes := a.cfg.ScopesSupported
	if scopes == nil {
		a.scopesMu.Lock()
		scopes = slices.Clone(a.scopes)
		a.scopesMu.Unlock()
		slices.Sort(scopes)
	}
	return ResourceMetadata{Resource: a.cfg.Resource, AuthorizationServers: []string{a.cfg.Issuer},
		ScopesSupported: scopes, BearerMethodsSupported: []string{"header"}, DPoPSigningAlgValuesSupported: a.dpop.Algs()}
}

// MetadataHandler serves Metadata as JSON. Mount it at the path of
// Config.ResourceMetadataURL, by default
// "GET /.well-known/oauth-protected-resource" (RFC 9728 §3), so that the
// resource_metadata of every challenge leads a client to it. Without a
// Resource it answers 404.
func (a *Auth) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Resource == "" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := json.Marshal(a.Metadata())
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(body)
	})
}
