package oauth_test

import (
	"fmt"
	"net/http"
	"strings"
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

// TestRegistrationUpdateNeedsTheClientsOwnIdentity sends RFC 7592 §2.2
// updates over HTTP: one without client_id, with another client's, or
// with a client_secret that is not the client's current one is 400
// invalid_client_metadata saying which, and changes nothing; with the
// client's own client_id, and its secret or none, the update is made.
func TestRegistrationUpdateNeedsTheClientsOwnIdentity(t *testing.T) {
	e := newEnv(t)
	register := func(body map[string]any) (id, secret, rat string) {
		status, reg := e.register(t, http.MethodPost, "/oauth2/register", "", body)
		if status != 201 {
			t.Fatalf("register: %d %v", status, reg)
		}
		secret, _ = reg["client_secret"].(string)
		return reg["client_id"].(string), secret, reg["registration_access_token"].(string)
	}
	scopes := map[string][]string{e.billing.ID: {"read"}}
	id, secret, rat := register(map[string]any{"client_name": "dyn", "tokend_api_scopes": scopes})
	otherID, otherSecret, _ := register(map[string]any{"client_name": "other", "tokend_api_scopes": scopes})
	pubID, _, pubRAT := register(map[string]any{"client_name": "pub", "token_endpoint_auth_method": "none",
		"redirect_uris": []string{"https://app.example/cb"}})
	uri := "/oauth2/register/" + id
	update := func(kv ...string) map[string]any {
		body := map[string]any{"client_name": "renamed", "tokend_api_scopes": scopes}
		for i := 0; i+1 < len(kv); i += 2 {
			body[kv[i]] = kv[i+1]
		}
		return body
	}
	for _, tt := range []struct {
		name, uri, rat string
		body           map[string]any
		says           string
	}{
		{"no client_id", uri, rat, update(), "client_id is required"},
		{"no client_id, the right secret", uri, rat, update("client_secret", secret), "client_id is required"},
		{"another client's client_id", uri, rat, update("client_id", otherID), "client_id is not the client_id"},
		{"a wrong client_secret", uri, rat, update("client_id", id, "client_secret", "tkcs_"+strings.Repeat("A", 43)), "client_secret"},
		{"another client's client_secret", uri, rat, update("client_id", id, "client_secret", otherSecret), "client_secret"},
		{"a secret for a public client", "/oauth2/register/" + pubID, pubRAT,
			map[string]any{"client_id": pubID, "client_name": "pub", "token_endpoint_auth_method": "none",
				"redirect_uris": []string{"https://app.example/cb"}, "client_secret": secret}, "client_secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, out := e.register(t, http.MethodPut, tt.uri, tt.rat, tt.body)
			desc, _ := out["error_description"].(string)
			if status != 400 || out["error"] != "invalid_client_metadata" || !strings.Contains(desc, tt.says) {
				t.Errorf("PUT: %d %v, want 400 invalid_client_metadata saying %q", status, out, tt.says)
			}
			if secret != "" && strings.Contains(desc, secret) || otherSecret != "" && strings.Contains(desc, otherSecret) {
				t.Errorf("the error repeats a client secret: %q", desc)
			}
		})
	}
	for _, name := range []string{id, pubID} {
		if status, out := e.register(t, http.MethodGet, "/oauth2/register/"+name, map[string]string{id: rat, pubID: pubRAT}[name], nil); status != 200 || out["client_name"] == "renamed" {
			t.Errorf("client %s after the refused updates: %d %v, want it unchanged", name, status, out)
		}
	}
	for i, body := range []map[string]any{update("client_id", id), update("client_id", id, "client_secret", secret)} {
		body["client_name"] = fmt.Sprint("renamed ", i)
		if status, out := e.register(t, http.MethodPut, uri, rat, body); status != 200 || out["client_name"] != body["client_name"] {
			t.Errorf("update %d with the client's own client_id: %d %v, want 200", i+1, status, out)
		}
	}
}
