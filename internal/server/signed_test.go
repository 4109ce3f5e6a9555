package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/servertest"
)

// signedFixture is a server with an API that requires signed requests.
type signedFixture struct {
	*servertest.Server
	api *api.API
}

func newSignedFixture(t *testing.T) *signedFixture {
	t.Helper()
	s := servertest.New(t)
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Payments", Audience: "https://pay.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "pay", Policy: api.Policy{RequireSignedRequests: true}})
	if err != nil {
		t.Fatal(err)
	}
	return &signedFixture{Server: s, api: a}
}

func (f *signedFixture) key(t *testing.T, sr *api.KeySigningRequest) *api.CreatedKey {
	t.Helper()
	k, err := f.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: f.api.ID, Subject: "cust_1", Scopes: []string{"read"}, Signing: sr})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

// request returns a POST to the API signed by s (nil: unsigned), as
// /v1/verify's request field gives it, after change edits it in transit.
func (f *signedFixture) request(t *testing.T, s *client.RequestSigner, body string, change func(*http.Request)) *api.SignedRequest {
	t.Helper()
	r, err := http.NewRequest("POST", "https://pay.example/v1/charges?idem=1", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		s.Now = f.Clock.Now
		if err := s.Sign(r); err != nil {
			t.Fatal(err)
		}
	}
	if change != nil {
		change(r)
	}
	return &api.SignedRequest{Method: r.Method, TargetURI: r.URL.String(), Headers: r.Header, HasBody: body != ""}
}

func (f *signedFixture) verify(t *testing.T, token string, sr *api.SignedRequest) *api.VerifyResponse {
	t.Helper()
	res, err := f.Client.Verify(t.Context(), api.VerifyRequest{Token: token, Request: sr})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

func hmacSigner(t *testing.T, k *api.CreatedKey) *client.RequestSigner {
	t.Helper()
	secret, err := base64.StdEncoding.DecodeString(k.SigningSecret)
	if err != nil || len(secret) != 32 {
		t.Fatalf("signing_secret %q: %d bytes, %v", k.SigningSecret, len(secret), err)
	}
	return &client.RequestSigner{KeyID: k.Key.ID, Alg: api.SigHMACSHA256, Secret: secret}
}

func TestSignedRequests(t *testing.T) {
	f := newSignedFixture(t)
	k := f.key(t, &api.KeySigningRequest{Alg: api.SigHMACSHA256})
	if k.Key.Signing == nil || k.Key.Signing.Alg != api.SigHMACSHA256 || k.Key.Signing.PublicKey != "" {
		t.Fatalf("key.signing = %+v, want hmac-sha256 without a public key", k.Key.Signing)
	}
	s := hmacSigner(t, k)
	body := `{"amount":100}`

	if res := f.verify(t, k.Secret, f.request(t, s, body, nil)); res.Code != api.CodeValid || !res.SignatureChecked {
		t.Fatalf("signed request = %s (%s), signature_checked %v; want VALID, true", res.Code, res.Problem, res.SignatureChecked)
	}
	cases := []struct {
		name    string
		req     *api.SignedRequest
		code    api.Code
		problem string
	}{
		{"no request", nil, api.CodeSignatureRequired, "no request was given"},
		{"unsigned", f.request(t, nil, body, nil), api.CodeSignatureRequired, "not signed"},
		{"changed path", f.request(t, s, body, func(r *http.Request) { r.URL.Path = "/v1/refunds" }), api.CodeSignatureInvalid, "does not verify"},
		{"changed method", f.request(t, s, body, func(r *http.Request) { r.Method = "PUT" }), api.CodeSignatureInvalid, "does not verify"},
		{"changed digest", f.request(t, s, body, func(r *http.Request) {
			r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+":")
		}), api.CodeSignatureInvalid, "does not verify"},
		{"truncated signature", f.request(t, s, body, func(r *http.Request) {
			v := r.Header.Get("Signature")
			r.Header.Set("Signature", v[:len(v)-12]+":")
		}), api.CodeSignatureInvalid, "Signature"},
		{"covered component missing", f.request(t, s, body, func(r *http.Request) { r.Header.Del("Content-Digest") }), api.CodeSignatureInvalid, `"content-digest" is not in the request`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.verify(t, k.Secret, c.req)
			if res.Code != c.code || !strings.Contains(res.Problem, c.problem) || res.Valid != (c.code == api.CodeValid) {
				t.Errorf("Verify = %s (%q), want %s mentioning %q", res.Code, res.Problem, c.code, c.problem)
			}
		})
	}

	// The same signed request twice: the second is a replay.
	req := f.request(t, s, body, nil)
	f.verify(t, k.Secret, req)
	if res := f.verify(t, k.Secret, req); res.Code != api.CodeSignatureInvalid || !strings.Contains(res.Problem, "replay") {
		t.Errorf("replayed request = %s (%q), want SIGNATURE_INVALID for a replay", res.Code, res.Problem)
	}
	// created too old, then in the future, on the server's clock.
	old := f.request(t, s, body, nil)
	f.Clock.Advance(6 * time.Minute)
	if res := f.verify(t, k.Secret, old); res.Code != api.CodeSignatureInvalid || !strings.Contains(res.Problem, "old") {
		t.Errorf("stale request = %s (%q), want SIGNATURE_INVALID for created", res.Code, res.Problem)
	}
	future := &client.RequestSigner{KeyID: s.KeyID, Alg: s.Alg, Secret: s.Secret}
	r, _ := http.NewRequest("GET", "https://pay.example/v1/charges", nil)
	future.Now = func() time.Time { return f.Clock.Now().Add(time.Minute) }
	future.Sign(r)
	res := f.verify(t, k.Secret, &api.SignedRequest{Method: "GET", TargetURI: r.URL.String(), Headers: r.Header})
	if res.Code != api.CodeSignatureInvalid || !strings.Contains(res.Problem, "future") {
		t.Errorf("future request = %s (%q), want SIGNATURE_INVALID for created", res.Code, res.Problem)
	}
}

// TestSigningSecretSealed: the hmac-sha256 signing secret is in the
// database only sealed under the key-encryption key, and in no log.
func TestSigningSecretSealed(t *testing.T) {
	f := newSignedFixture(t)
	k := f.key(t, &api.KeySigningRequest{Alg: api.SigHMACSHA256})
	secret, _ := base64.StdEncoding.DecodeString(k.SigningSecret)
	raw, err := sql.Open("sqlite", "file:"+f.DBPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var alg string
	var stored []byte
	if err := raw.QueryRowContext(t.Context(), `SELECT signing_alg, signing_key FROM keys WHERE id = ?`, k.Key.ID).Scan(&alg, &stored); err != nil {
		t.Fatal(err)
	}
	if alg != api.SigHMACSHA256 || len(stored) < len(secret) || bytes.Contains(stored, secret) {
		t.Errorf("stored signing key %q %x holds the secret %x in clear", alg, stored, secret)
	}
	db := readAll(t, f.DBPath, f.DBPath+"-wal")
	if bytes.Contains(db, secret) || bytes.Contains(db, []byte(k.SigningSecret)) {
		t.Error("the database files hold the signing secret in clear")
	}
	got, err := f.Client.GetKey(t.Context(), k.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), k.SigningSecret) || strings.Contains(f.Logs.String(), k.SigningSecret) {
		t.Errorf("GET /v1/keys/%s or the log shows the signing secret", k.Key.ID)
	}
	if got.Signing == nil || got.Signing.Alg != api.SigHMACSHA256 {
		t.Errorf("GET key signing = %+v", got.Signing)
	}
}

func TestSignedRequestsPublicKeys(t *testing.T) {
	f := newSignedFixture(t)
	epub, epriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	edJWK := `{"kty":"OKP","crv":"Ed25519","x":"` + base64.RawURLEncoding.EncodeToString(epub) + `"}`
	for _, c := range []struct{ req api.KeySigningRequest }{
		{api.KeySigningRequest{Alg: api.SigEd25519, PublicJWK: json.RawMessage(edJWK)}},
		{api.KeySigningRequest{Alg: api.SigECDSAP256, PublicKey: ecPEM}},
	} {
		t.Run(c.req.Alg, func(t *testing.T) {
			k := f.key(t, &c.req)
			if k.SigningSecret != "" || k.Key.Signing == nil || !strings.Contains(k.Key.Signing.PublicKey, "PUBLIC KEY") {
				t.Fatalf("created key: signing secret %q, signing %+v", k.SigningSecret, k.Key.Signing)
			}
			s := &client.RequestSigner{KeyID: k.Key.ID, Alg: c.req.Alg, PrivateKey: epriv}
			if c.req.Alg == api.SigECDSAP256 {
				s.PrivateKey = ec
			}
			if res := f.verify(t, k.Secret, f.request(t, s, "a=1", nil)); res.Code != api.CodeValid {
				t.Errorf("signed request = %s (%s)", res.Code, res.Problem)
			}
			other := &client.RequestSigner{KeyID: k.Key.ID, Alg: c.req.Alg}
			if c.req.Alg == api.SigEd25519 {
				_, other.PrivateKey, _ = ed25519.GenerateKey(rand.Reader)
			} else {
				other.PrivateKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			if res := f.verify(t, k.Secret, f.request(t, other, "a=1", nil)); res.Code != api.CodeSignatureInvalid {
				t.Errorf("request signed by another key = %s, want SIGNATURE_INVALID", res.Code)
			}
		})
	}
}

// TestSigningBadInput: keys whose signing settings cannot be right are
// refused with invalid-field, and nothing is created.
func TestSigningBadInput(t *testing.T) {
	f := newSignedFixture(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	p384 := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	for _, c := range []struct {
		name  string
		req   *api.KeySigningRequest
		field string
	}{
		{"none under a policy that requires it", nil, "signing"},
		{"unknown alg", &api.KeySigningRequest{Alg: "rsa-v1_5-sha256"}, "signing.alg"},
		{"hmac with a public key", &api.KeySigningRequest{Alg: api.SigHMACSHA256, PublicKey: p384}, "signing.public_key"},
		{"ed25519 without a key", &api.KeySigningRequest{Alg: api.SigEd25519}, "signing.public_key"},
		{"P-384 key for ecdsa-p256", &api.KeySigningRequest{Alg: api.SigECDSAP256, PublicKey: p384}, "signing.public_key"},
		{"not PEM", &api.KeySigningRequest{Alg: api.SigEd25519, PublicKey: "hello"}, "signing.public_key"},
		{"private JWK", &api.KeySigningRequest{Alg: api.SigEd25519, PublicJWK: json.RawMessage(
			`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`)}, "signing.public_jwk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: f.api.ID, Subject: "s", Signing: c.req})
			p, ok := errors.AsType[*api.Problem](err)
			if !ok || p.Code() != api.ErrInvalidField || p.Field != c.field {
				t.Errorf("CreateKey = %v, want invalid-field %s", err, c.field)
			}
		})
	}
	page, err := f.Client.ListKeys(t.Context(), client.ListKeysOptions{APIID: f.api.ID})
	if err != nil || len(page.Keys) != 0 {
		t.Errorf("ListKeys = %d keys, %v; want none", len(page.Keys), err)
	}
}

// TestSignedRequestsForwardAuth: /v1/authz checks the signature of the
// original request from the proxy's headers, and refuses a changed path,
// a replay and an unsigned request with 401 invalid-signature.
func TestSignedRequestsForwardAuth(t *testing.T) {
	sf := newSignedFixture(t)
	f := &fixture{Server: sf.Server, api: sf.api}
	vkey := f.verifyKey(t)
	k := sf.key(t, &api.KeySigningRequest{Alg: api.SigHMACSHA256})
	s := hmacSigner(t, k)
	s.Now = f.Clock.Now
	forwarded := func(sign bool, uri string) http.Header {
		r, _ := http.NewRequest("POST", "https://pay.example/v1/charges?x=1", strings.NewReader(`{"amount":1}`))
		if sign {
			s.Sign(r)
		}
		h := r.Header.Clone()
		h.Set("Authorization", "Bearer "+k.Secret)
		h.Set("X-Forwarded-Method", "POST")
		h.Set("X-Forwarded-Uri", uri)
		h.Set("X-Forwarded-Host", "pay.example")
		h.Set("X-Forwarded-Proto", "https")
		return h
	}
	path := "/v1/authz?audience=https://pay.example"
	ok := forwarded(true, "/v1/charges?x=1")
	if resp := f.authz(t, "GET", path, vkey, ok); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed request = %d, want 200", resp.StatusCode)
	}
	for name, h := range map[string]http.Header{
		"replay":       ok,
		"changed path": forwarded(true, "/v1/refunds?x=1"),
		"unsigned":     forwarded(false, "/v1/charges?x=1"),
	} {
		resp := f.authz(t, "GET", path, vkey, h)
		if wa := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(wa, "invalid_signature") {
			t.Errorf("%s = %d %q, want 401 invalid_signature", name, resp.StatusCode, wa)
		}
	}
}

// TestSignedRequestHeaderNames: the names of /v1/verify's request.headers
// are HTTP field names, matched without regard to case. A map in lower
// case verifies; a map that holds one name twice in different cases
// ("Signature" and a forged "signature": which one a lookup found was
// chance) is 400 invalid-field naming request.headers, with few fields
// or many, and spends nothing: the nonce of the signature is still
// unused, so the request then verifies.
func TestSignedRequestHeaderNames(t *testing.T) {
	f := newSignedFixture(t)
	k := f.key(t, &api.KeySigningRequest{Alg: api.SigHMACSHA256})
	s := hmacSigner(t, k)
	body := `{"amount":100}`

	lower := f.request(t, s, body, nil)
	h := map[string][]string{}
	for name, v := range lower.Headers {
		h[strings.ToLower(name)] = v
	}
	lower.Headers = h
	if res := f.verify(t, k.Secret, lower); res.Code != api.CodeValid {
		t.Errorf("signed request with lower-case field names = %s (%q), want VALID", res.Code, res.Problem)
	}

	for _, n := range []int{0, 40} {
		req := f.request(t, s, body, nil)
		h := map[string][]string{}
		for name, v := range req.Headers {
			h[name] = v
		}
		for i := range n {
			h[fmt.Sprintf("X-Filler-%d", i)] = []string{"x"}
		}
		h["signature"] = []string{`sig1=:` + base64.StdEncoding.EncodeToString(make([]byte, 32)) + `:`}
		twice := *req
		twice.Headers = h
		_, err := f.Client.Verify(t.Context(), api.VerifyRequest{Token: k.Secret, Request: &twice})
		if p, ok := errors.AsType[*api.Problem](err); !ok || p.Status != 400 || p.Code() != api.ErrInvalidField ||
			p.Field != "request.headers" || !strings.Contains(p.Detail, "case-insensitive") {
			t.Errorf("Verify with Signature and signature among %d more fields = %v, want 400 invalid-field request.headers", n, err)
		}
		if res := f.verify(t, k.Secret, req); res.Code != api.CodeValid {
			t.Errorf("the same request, each field once, after the refusal = %s (%q), want VALID", res.Code, res.Problem)
		}
	}
}
