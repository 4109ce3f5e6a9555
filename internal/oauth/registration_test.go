package oauth_test

import (
	"net/http"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestRotatingDynamicClientSecretRotatesRegistrationToken rotates the
// secret of a registered client: the answer carries a new registration
// access token, and the old one no longer reads or changes the client
// (L10).
func TestRotatingDynamicClientSecretRotatesRegistrationToken(t *testing.T) {
	e := newEnv(t)
	status, reg := e.register(t, http.MethodPost, "/oauth2/register", "", map[string]any{"client_name": "dyn",
		"tokend_api_scopes": map[string][]string{e.billing.ID: {"read"}}})
	if status != 201 {
		t.Fatalf("register: %d %v", status, reg)
	}
	id, oldRAT := reg["client_id"].(string), reg["registration_access_token"].(string)
	rot, err := e.Client.RotateClientSecret(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if rot.RegistrationAccessToken == "" || rot.RegistrationAccessToken == oldRAT {
		t.Fatalf("rotation answered registration token %q, want a new one", rot.RegistrationAccessToken)
	}
	uri := "/oauth2/register/" + id
	if status, out := e.register(t, http.MethodGet, uri, oldRAT, nil); status != 401 {
		t.Errorf("GET with the old registration token: %d %v, want 401", status, out)
	}
	put := map[string]any{"client_name": "taken over", "tokend_api_scopes": map[string][]string{e.billing.ID: {"read", "write"}}}
	if status, _ := e.register(t, http.MethodPut, uri, oldRAT, put); status != 401 {
		t.Errorf("PUT with the old registration token: %d, want 401", status)
	}
	if status, out := e.register(t, http.MethodGet, uri, rot.RegistrationAccessToken, nil); status != 200 || out["client_name"] != "dyn" {
		t.Errorf("GET with the new registration token: %d %v, want 200 and the unchanged client", status, out)
	}
	// A client created through the admin API has no registration token.
	static, err := e.Client.RotateClientSecret(t.Context(), e.client(t, nil).Client.ID)
	if err != nil || static.RegistrationAccessToken != "" {
		t.Errorf("rotating a static client: %v, registration token %q, want none", err, static.RegistrationAccessToken)
	}
}

// TestNamesRefuseControlAndBidiCharacters names clients with C1 controls
// and bidi overrides, through the admin API and registration (L10).
func TestNamesRefuseControlAndBidiCharacters(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"\u009b31mRED", "a\u009d0;x\u0007", "invoice\u202egpj.exe", "x\u2066y"} {
		_, err := e.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: name,
			APIScopes: map[string][]string{e.billing.ID: {"read"}}})
		checkInvalidField(t, "create "+name, err)
		status, out := e.register(t, http.MethodPost, "/oauth2/register", "", map[string]any{"client_name": name,
			"tokend_api_scopes": map[string][]string{e.billing.ID: {"read"}}})
		if status != 400 || out["error"] != "invalid_client_metadata" {
			t.Errorf("register %q: %d %v, want 400 invalid_client_metadata", name, status, out)
		}
	}
	if _, err := e.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: "Rechnungsdienst – Zürich 東京",
		APIScopes: map[string][]string{e.billing.ID: {"read"}}}); err != nil {
		t.Errorf("a name with ordinary non-ASCII letters: %v", err)
	}
}
