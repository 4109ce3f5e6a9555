package server_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/tokend/tokend/api"
)

// TestOAuthDynamicRegistration registers a client (RFC 7591), uses it,
// reads, updates and deletes it with its registration access token
// (RFC 7592).
func TestOAuthDynamicRegistration(t *testing.T) {
	f := newFixture(t)
	body := `{"client_name":"dyn","grant_types":["client_credentials"],"tokend_api_scopes":{"` + f.api.ID + `":["read"]},"logo_uri":"https://dyn.example/logo.png","x_unknown_member":{"ignored":true}}`
	status, raw := f.post(t, "/oauth2/register", "application/json", body, nil)
	if status != 201 {
		t.Fatalf("register: %d %s", status, raw)
	}
	var reg struct {
		ClientID, ClientSecret, RegistrationAccessToken, RegistrationClientURI string
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	reg.ClientID, _ = m["client_id"].(string)
	reg.ClientSecret, _ = m["client_secret"].(string)
	reg.RegistrationAccessToken, _ = m["registration_access_token"].(string)
	reg.RegistrationClientURI, _ = m["registration_client_uri"].(string)
	if reg.ClientSecret == "" || reg.RegistrationAccessToken == "" || reg.RegistrationClientURI != f.Issuer+"/oauth2/register/"+reg.ClientID {
		t.Fatalf("registration response %s", raw)
	}
	status, raw = f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, reg.ClientID, reg.ClientSecret)
	if status != 200 {
		t.Fatalf("token for a registered client: %d %s", status, raw)
	}
	do := func(method, token, body string) (int, []byte) {
		req, _ := http.NewRequest(method, reg.RegistrationClientURI, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b json.RawMessage
		json.NewDecoder(res.Body).Decode(&b)
		return res.StatusCode, b
	}
	if status, raw := do(http.MethodGet, reg.RegistrationAccessToken, ""); status != 200 || !strings.Contains(string(raw), `"client_name":"dyn"`) {
		t.Errorf("read: %d %s", status, raw)
	}
	status, raw = do(http.MethodGet, "tkrg_wrong", "")
	checkOAuthError(t, status, raw, 401, "invalid_token")
	upd := `{"client_id":"` + reg.ClientID + `","client_name":"renamed","tokend_api_scopes":{"` + f.api.ID + `":["read","write"]}}`
	if status, raw := do(http.MethodPut, reg.RegistrationAccessToken, upd); status != 200 || !strings.Contains(string(raw), `"renamed"`) {
		t.Errorf("update: %d %s", status, raw)
	}
	status, raw = do(http.MethodPut, reg.RegistrationAccessToken, `{"client_id":"`+reg.ClientID+`","client_name":"x","tokend_api_scopes":{"api_nope":["read"]}}`)
	checkOAuthError(t, status, raw, 400, "invalid_client_metadata")
	if status, _ := do(http.MethodDelete, reg.RegistrationAccessToken, ""); status != 204 {
		t.Errorf("delete: %d", status)
	}
	status, raw = f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, reg.ClientID, reg.ClientSecret)
	checkOAuthError(t, status, raw, 401, "invalid_client")

	status, raw = f.post(t, "/oauth2/register", "application/json", `{"client_name":"x"}`, nil)
	checkOAuthError(t, status, raw, 400, "invalid_client_metadata")
	status, raw = f.post(t, "/oauth2/register", "application/json",
		`{"client_name":"x","redirect_uris":["javascript:alert(1)"],"tokend_api_scopes":{"`+f.api.ID+`":[]}}`, nil)
	checkOAuthError(t, status, raw, 400, "invalid_redirect_uri")
}

// TestOAuthPrivateKeyJWT authenticates with an RFC 7523 client assertion
// and refuses its replay.
func TestOAuthPrivateKeyJWT(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	c := f.oauthClient(t, func(r *api.CreateClientRequest) { r.TokenEndpointAuthMethod, r.JWKS = "private_key_jwt", jwks })
	if c.Secret != "" {
		t.Error("a private_key_jwt client got a secret")
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertion := func(aud string, exp time.Duration) string {
		now := f.Clock.Now()
		s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: c.Client.ID, Subject: c.Client.ID, Audience: jwt.Audience{aud},
			Expiry: jwt.NewNumericDate(now.Add(exp)), IssuedAt: jwt.NewNumericDate(now), ID: rand.Text()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {a}}
	}
	good := assertion(f.Issuer+"/oauth2/token", time.Minute)
	if status, raw := f.postForm(t, "/oauth2/token", form(good), "", ""); status != 200 {
		t.Fatalf("private_key_jwt: %d %s", status, raw)
	}
	status, raw := f.postForm(t, "/oauth2/token", form(good), "", "")
	checkOAuthError(t, status, raw, 401, "invalid_client") // replay
	status, raw = f.postForm(t, "/oauth2/token", form(assertion("https://elsewhere.example", time.Minute)), "", "")
	checkOAuthError(t, status, raw, 401, "invalid_client")
	status, raw = f.postForm(t, "/oauth2/token", form(assertion(f.Issuer, -time.Minute)), "", "")
	checkOAuthError(t, status, raw, 401, "invalid_client") // expired
}

// TestOAuthPrivateKeyJWTEd25519 authenticates private_key_jwt clients
// with Ed25519 assertions under both names of the signature: EdDSA and
// RFC 9864's fully-specified Ed25519, which panva's oauth4webapi signs
// with, whichever of the two the registered key names. The metadata
// lists both; a forged signature, and an Ed25519 assertion for a client
// whose key is not Ed25519, are refused.
func TestOAuthPrivateKeyJWTEd25519(t *testing.T) {
	f := newFixture(t)
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	client := func(keyAlg string) *api.CreatedClient {
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "k1", Algorithm: keyAlg, Use: "sig"}}})
		return f.oauthClient(t, func(r *api.CreateClientRequest) { r.TokenEndpointAuthMethod, r.JWKS = "private_key_jwt", jwks })
	}
	// assertion signs the claims of RFC 7523 §3 for c with alg, by hand:
	// go-jose does not know the name Ed25519.
	assertion := func(c *api.CreatedClient, alg string) string {
		now := f.Clock.Now()
		h, _ := json.Marshal(map[string]string{"alg": alg, "kid": "k1", "typ": "JWT"})
		p, _ := json.Marshal(jwt.Claims{Issuer: c.Client.ID, Subject: c.Client.ID, Audience: jwt.Audience{f.Issuer},
			Expiry: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: rand.Text()})
		input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
		return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(input)))
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion": {a}}
	}
	for _, keyAlg := range []string{"Ed25519", "EdDSA", ""} {
		c := client(keyAlg)
		for _, alg := range []string{"Ed25519", "EdDSA"} {
			if status, raw := f.postForm(t, "/oauth2/token", form(assertion(c, alg)), "", ""); status != 200 {
				t.Errorf("key alg %q, assertion alg %s: %d %s", keyAlg, alg, status, raw)
			}
		}
		forged := assertion(c, "Ed25519")
		forged = forged[:strings.LastIndexByte(forged, '.')+1] + base64.RawURLEncoding.EncodeToString(make([]byte, ed25519.SignatureSize))
		status, raw := f.postForm(t, "/oauth2/token", form(forged), "", "")
		checkOAuthError(t, status, raw, 401, "invalid_client")
	}

	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ec.PublicKey, KeyID: "k1", Use: "sig"}}})
	other := f.oauthClient(t, func(r *api.CreateClientRequest) { r.TokenEndpointAuthMethod, r.JWKS = "private_key_jwt", jwks })
	status, raw := f.postForm(t, "/oauth2/token", form(assertion(other, "Ed25519")), "", "")
	checkOAuthError(t, status, raw, 401, "invalid_client")

	var m struct {
		Token         []string `json:"token_endpoint_auth_signing_alg_values_supported"`
		Introspection []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
		Revocation    []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	}
	res, err := http.Get(f.Issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, algs := range [][]string{m.Token, m.Introspection, m.Revocation} {
		if !slices.Contains(algs, "Ed25519") || !slices.Contains(algs, "EdDSA") {
			t.Errorf("the metadata's assertion algorithms %v lack Ed25519 or EdDSA", algs)
		}
	}
}

// TestRegistrationBadBodiesAndChallenges: an oversized registration body
// says so (not "must be one JSON object"), a member of the wrong type is
// named, and a registration endpoint asked without any Authorization
// header answers with a bare challenge (RFC 6750 §3.1), a wrong token
// with error="invalid_token".
func TestRegistrationBadBodiesAndChallenges(t *testing.T) {
	f := newFixture(t)
	status, raw := f.post(t, "/oauth2/register", "application/json",
		`{"client_name":"`+strings.Repeat("a", 70000)+`"}`, nil)
	checkOAuthError(t, status, raw, 400, "invalid_request")
	if !strings.Contains(string(raw), "exceeds 65536 bytes") {
		t.Errorf("oversized body: %s, want it to say so", raw)
	}
	status, raw = f.post(t, "/oauth2/register", "application/json", `{"redirect_uris":"https://app.example/cb"}`, nil)
	checkOAuthError(t, status, raw, 400, "invalid_client_metadata")
	if !strings.Contains(string(raw), `\"redirect_uris\" must be an array`) || strings.Contains(string(raw), "app.example") {
		t.Errorf("wrong type: %s, want the member named and its value left out", raw)
	}
	for _, c := range []struct{ auth, challenge string }{
		{"", `Bearer realm="tokend"`},
		{"Bearer tkrg_wrong", `Bearer realm="tokend", error="invalid_token"`},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.URL+"/oauth2/register/cli_06dnpacch1sjosslevg8v4id40", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("GET registration with %q: %d %q, want 401 %q", c.auth, res.StatusCode, res.Header.Get("WWW-Authenticate"), c.challenge)
		}
	}
}
