package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// TestOpenAPIClientEnumsMatchMetadata: the grant types and client
// authentication methods the OpenAPI document allows for clients (in
// /v1/clients and in dynamic registration) are exactly those the server
// advertises in its RFC 8414 metadata, so that a client generated from
// the document can create and read every kind of client tokend serves.
func TestOpenAPIClientEnumsMatchMetadata(t *testing.T) {
	f := newFixture(t)
	get := func(path string, v any) {
		t.Helper()
		res, err := http.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var meta struct {
		Grants  []string `json:"grant_types_supported"`
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	get("/.well-known/oauth-authorization-server", &meta)
	type enum struct {
		Enum []string `json:"enum"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties struct {
					GrantTypes struct {
						Items enum `json:"items"`
					} `json:"grant_types"`
					AuthMethod enum `json:"token_endpoint_auth_method"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	get("/v1/openapi.json", &doc)
	same := func(a, b []string) bool {
		a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
		return slices.Equal(a, b)
	}
	for _, name := range []string{"Client", "CreateClientRequest", "UpdateClientRequest", "ClientRegistration", "ClientRegistrationResponse"} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		if got := s.Properties.GrantTypes.Items.Enum; !same(got, meta.Grants) {
			t.Errorf("%s.grant_types enum %v, want the advertised %v", name, got, meta.Grants)
		}
		if got := s.Properties.AuthMethod.Enum; !same(got, meta.Methods) {
			t.Errorf("%s.token_endpoint_auth_method enum %v, want the advertised %v", name, got, meta.Methods)
		}
	}
}
