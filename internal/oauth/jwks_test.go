package oauth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
)

func jwks(t *testing.T, key any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rsaKey(t *testing.T, bits int) *rsa.PublicKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// register posts RFC 7591 metadata (PUT to the client's URI with its
// registration access token when rat is set) and returns the status and
// decoded answer.
func (e *env) register(t testing.TB, method, path, rat string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), method, e.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if rat != "" {
		req.Header.Set("Authorization", "Bearer "+rat)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestClientJWKSRefusesWeakKeys offers RSA keys under 2048 bits at every
// way a key set gets in: create, PATCH, DCR registration and DCR PUT
// (L7). Strong keys of each kind are accepted.
func TestClientJWKSRefusesWeakKeys(t *testing.T) {
	e := newEnv(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	strong := jwks(t, rsaKey(t, 2048))
	for name, good := range map[string]json.RawMessage{"RSA 2048": strong, "P-256": jwks(t, &ecKey.PublicKey),
		"Ed25519": jwks(t, edPub)} {
		if _, err := e.Client.CreateClient(t.Context(), pkjwtClient(e, good)); err != nil {
			t.Errorf("a %s key set: %v", name, err)
		}
	}
	n512, _ := rand.Prime(rand.Reader, 512)
	weak := map[string]json.RawMessage{
		"RSA 1024": jwks(t, rsaKey(t, 1024)),
		"RSA 512":  jwks(t, &rsa.PublicKey{N: new(big.Int).Mul(n512, big.NewInt(3)), E: 65537}),
	}
	dyn := map[string]any{"client_name": "dyn", "token_endpoint_auth_method": "private_key_jwt", "jwks": strong,
		"tokend_api_scopes": map[string][]string{e.billing.ID: {"read"}}}
	status, reg := e.register(t, http.MethodPost, "/oauth2/register", "", dyn)
	if status != 201 {
		t.Fatalf("registration with a 2048-bit key: %d %v", status, reg)
	}
	existing, err := e.Client.CreateClient(t.Context(), pkjwtClient(e, strong))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range weak {
		t.Run(name, func(t *testing.T) {
			_, err := e.Client.CreateClient(t.Context(), pkjwtClient(e, bad))
			checkInvalidField(t, "create", err)
			_, err = e.Client.UpdateClient(t.Context(), existing.Client.ID, api.UpdateClientRequest{JWKS: bad})
			checkInvalidField(t, "PATCH", err)
			dyn["jwks"] = bad
			if status, out := e.register(t, http.MethodPost, "/oauth2/register", "", dyn); status != 400 || out["error"] != "invalid_client_metadata" {
				t.Errorf("DCR registration: %d %v, want 400 invalid_client_metadata", status, out)
			}
			dyn["client_id"] = reg["client_id"]
			status, out := e.register(t, http.MethodPut, "/oauth2/register/"+reg["client_id"].(string), reg["registration_access_token"].(string), dyn)
			if status != 400 || out["error"] != "invalid_client_metadata" {
				t.Errorf("DCR PUT: %d %v, want 400 invalid_client_metadata", status, out)
			}
			delete(dyn, "client_id")
		})
	}
}

func pkjwtClient(e *env, set json.RawMessage) api.CreateClientRequest {
	return api.CreateClientRequest{Name: "pk", APIScopes: map[string][]string{e.billing.ID: {"read"}},
		TokenEndpointAuthMethod: "private_key_jwt", JWKS: set}
}

func checkInvalidField(t *testing.T, what string, err error) {
	t.Helper()
	if p, ok := errors.AsType[*api.Problem](err); !ok || p.Status != 400 {
		t.Errorf("%s: %v, want a 400 problem", what, err)
	}
}
