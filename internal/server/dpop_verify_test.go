package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

const resourceURL = "https://pay.example/v1/charges"

// TestVerifyDPoPBoundKey creates an API key bound to a DPoP key and
// verifies it at /v1/verify: the key alone, a proof of another key, for
// another request, without the nonce, or replayed, is refused and
// spends nothing; the right proof is VALID.
func TestVerifyDPoPBoundKey(t *testing.T) {
	f := newFixture(t)
	key := f.NewDPoPKey(t)
	other := f.NewDPoPKey(t)
	bound := f.key(t, api.CreateKeyRequest{DPoPJWK: key.PublicJWK(),
		RateLimits: []api.RateLimit{{Name: "minute", Limit: 1, Window: api.Duration(time.Minute)}}})
	if bound.Key.DPoPJKT != key.JKT() {
		t.Fatalf("created key dpop_jkt = %q, want %q", bound.Key.DPoPJKT, key.JKT())
	}
	plain := f.key(t, api.CreateKeyRequest{})
	nonce := f.DPoP.Nonce()
	proof := func(k interface {
		Proof(method, url, token, nonce string) (string, error)
	}, method, u, token, n string) *api.VerifyDPoP {
		p, err := k.Proof(method, u, token, n)
		if err != nil {
			t.Fatal(err)
		}
		// The request is always POST resourceURL; the proof may say otherwise.
		return &api.VerifyDPoP{Proof: p, Method: "POST", URL: resourceURL}
	}
	good := proof(key, "POST", resourceURL, bound.Secret, nonce)
	for _, tt := range []struct {
		name string
		dpop *api.VerifyDPoP
		want api.Code
	}{
		{"the key alone", nil, api.CodeInvalidDPoPProof},
		{"another key", proof(other, "POST", resourceURL, bound.Secret, nonce), api.CodeInvalidDPoPProof},
		{"another method", proof(key, "GET", resourceURL, bound.Secret, nonce), api.CodeInvalidDPoPProof},
		{"another URL", proof(key, "POST", "https://pay.example/v1/refunds", bound.Secret, nonce), api.CodeInvalidDPoPProof},
		{"no ath", proof(key, "POST", resourceURL, "", nonce), api.CodeInvalidDPoPProof},
		{"ath of another token", proof(key, "POST", resourceURL, plain.Secret, nonce), api.CodeInvalidDPoPProof},
		{"no nonce", proof(key, "POST", resourceURL, bound.Secret, ""), api.CodeUseDPoPNonce},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.verify(t, api.VerifyRequest{Token: bound.Secret, DPoP: tt.dpop})
			if r.Code != tt.want || r.Token != nil || r.DPoPError == "" || len(r.RateLimits) != 0 {
				t.Errorf("= %+v, want %s without token details or rate limits, with dpop_error", r, tt.want)
			}
			if tt.want == api.CodeUseDPoPNonce && r.DPoPNonce == "" {
				t.Error("USE_DPOP_NONCE without dpop_nonce")
			}
			if strings.Contains(r.DPoPError, bound.Secret) || strings.Contains(r.DPoPError, "eyJ") {
				t.Errorf("dpop_error %q repeats a secret", r.DPoPError)
			}
		})
	}
	r := f.verify(t, api.VerifyRequest{Token: bound.Secret, DPoP: good})
	if r.Code != api.CodeValid || r.Token == nil || r.Token.JKT != key.JKT() {
		t.Fatalf("the right proof: %+v, want VALID with token.jkt", r)
	}
	if len(r.RateLimits) != 1 || r.RateLimits[0].Remaining != 0 {
		t.Errorf("rate limits after the refusals and one success = %+v, want one request taken", r.RateLimits)
	}
	if r := f.verify(t, api.VerifyRequest{Token: bound.Secret, DPoP: good}); r.Code != api.CodeInvalidDPoPProof {
		t.Errorf("a replayed proof = %s, want INVALID_DPOP_PROOF", r.Code)
	}
	// A bearer key is VALID without a proof; with one (it came as
	// Authorization: DPoP) it is NOT_DPOP_BOUND, with its details.
	if r := f.verify(t, api.VerifyRequest{Token: plain.Secret}); r.Code != api.CodeValid {
		t.Errorf("a bearer key = %s, want VALID", r.Code)
	}
	r = f.verify(t, api.VerifyRequest{Token: plain.Secret, DPoP: proof(key, "POST", resourceURL, plain.Secret, nonce)})
	if r.Code != api.CodeDPoPNotBound || r.Valid || r.Token == nil || r.Token.ID != plain.Key.ID {
		t.Errorf("a bearer key with a proof = %+v, want NOT_DPOP_BOUND with its details", r)
	}
	// Forward-auth: the bound key sent as a bearer token is refused.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.URL+"/v1/authz", nil)
	req.Header.Set("Authorization", "Bearer "+bound.Secret)
	req.Header.Set("X-Forwarded-Uri", "/v1/charges")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forward-auth with the bound key as Bearer = %d, want 401", res.StatusCode)
	}
}

// TestDPoPBoundKeyBadInput: a private or symmetric key, or a dpop member
// without its parts, is a 400 that creates and verifies nothing.
func TestDPoPBoundKeyBadInput(t *testing.T) {
	f := newFixture(t)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privJWK, _ := json.Marshal(&jose.JSONWebKey{Key: priv})
	for name, jwk := range map[string]string{
		"private key":   string(privJWK),
		"symmetric key": `{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}`,
		"not a key":     `{"kty":"EC"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: f.api.ID, Subject: "c", DPoPJWK: json.RawMessage(jwk)})
			if e, ok := errors.AsType[*api.Problem](err); !ok || e.Code() != api.ErrInvalidField || e.Field != "dpop_jwk" {
				t.Errorf("CreateKey = %v, want 400 about dpop_jwk", err)
			}
		})
	}
	keys, err := f.Client.ListKeys(t.Context(), client.ListKeysOptions{APIID: f.api.ID})
	if err != nil || len(keys.Keys) != 0 {
		t.Errorf("keys after the refusals: %v, %v; want none", keys, err)
	}
	plain := f.key(t, api.CreateKeyRequest{})
	for name, d := range map[string]*api.VerifyDPoP{
		"no proof":      {Method: "GET", URL: resourceURL},
		"no method":     {Proof: "a.b.c", URL: resourceURL},
		"relative URL":  {Proof: "a.b.c", Method: "GET", URL: "/v1/charges"},
		"lowercase htm": {Proof: "a.b.c", Method: "get", URL: resourceURL},
	} {
		_, err := f.Client.Verify(t.Context(), api.VerifyRequest{Token: plain.Secret, DPoP: d})
		if problemCode(err) != api.ErrInvalidField {
			t.Errorf("%s: Verify = %v, want 400", name, err)
		}
	}
}
