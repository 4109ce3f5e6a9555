package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/signer"
)

// privateMembers are the JWK members that hold private key material
// (RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// getJWKS fetches the JWKS, checks its headers and that it holds no
// private material, and returns its kids.
func getJWKS(t *testing.T, s *servertest.Server) []string {
	t.Helper()
	res, err := http.Get(s.URL + "/oauth2/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /oauth2/jwks.json: %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control = %q, want public, max-age=60", cc)
	}
	checkNoPrivate(t, body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() || k.Use != "sig" || k.KeyID == "" || !slices.Contains(signer.Algorithms, k.Algorithm) {
			t.Errorf("JWKS key %+v is not a valid public signing key", k)
		}
		kids = append(kids, k.KeyID)
	}
	return kids
}

// checkNoPrivate fails if any JSON object in body has a private JWK member.
func checkNoPrivate(t *testing.T, body []byte) {
	t.Helper()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if _, isJWK := v["kty"]; isJWK && slices.Contains(privateMembers, k) {
					t.Errorf("a JWK has the private member %q: %s", k, body)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
}

func TestJWKS(t *testing.T) {
	for _, alg := range signer.Algorithms {
		t.Run(alg, func(t *testing.T) {
			s := servertest.New(t)
			// The harness signs ES256; a second signer on the same store
			// with another algorithm rotates to a key of that algorithm.
			sg, err := signer.New(t.Context(), signer.Config{DB: s.DB, KEK: make([]byte, signer.KEKSize), Alg: alg, Now: s.Clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			k, err := sg.Rotate(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Signer.Maintain(t.Context()); err != nil {
				t.Fatal(err)
			}
			// The harness also keeps an RS256 key for ID tokens.
			if kids := getJWKS(t, s); len(kids) != 3 || kids[2] != k.KID {
				t.Errorf("JWKS kids = %v, want the first keys and the pending %s", kids, k.KID)
			}
		})
	}
}

// adminCall sends an admin request and decodes the JSON answer into out.
func adminCall(t *testing.T, s *servertest.Server, method, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, s.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		checkNoPrivate(t, body)
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return res.StatusCode
}

func TestSigningKeysAPI(t *testing.T) {
	s := servertest.New(t)
	var list api.SigningKeyList
	if code := adminCall(t, s, "GET", "/v1/signing-keys", s.AdminKey, &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	// The RS256 keys the harness keeps for ID tokens rotate with the
	// ES256 ones; the checks below look at the ES256 keys.
	es256 := func(l api.SigningKeyList) []api.SigningKey {
		var out []api.SigningKey
		for _, k := range l.Keys {
			if k.Alg == "ES256" {
				out = append(out, k)
			}
		}
		return out
	}
	if l := es256(list); len(list.Keys) != 2 || len(l) != 1 || l[0].State != "active" || l[0].RetiredAt != nil {
		t.Fatalf("list = %+v", list)
	}
	first := es256(list)[0].KID
	rsaFirst := list.Keys[0].KID
	if rsaFirst == first {
		rsaFirst = list.Keys[1].KID
	}

	var k, again api.SigningKey
	if code := adminCall(t, s, "POST", "/v1/signing-keys/rotate", s.AdminKey, &k); code != 200 {
		t.Fatalf("rotate: %d", code)
	}
	if k.State != "pending" || !k.ActiveAt.Equal(s.Clock.Now().Add(time.Hour)) || k.KID == first {
		t.Errorf("rotate = %+v, want a pending key active in 1h", k)
	}
	if code := adminCall(t, s, "POST", "/v1/signing-keys/rotate", s.AdminKey, &again); code != 200 || again.KID != k.KID {
		t.Errorf("second rotate = %d %+v, want the pending key again", code, again)
	}
	if kids := getJWKS(t, s); len(kids) != 4 || !slices.Contains(kids, first) || !slices.Contains(kids, rsaFirst) || !slices.Contains(kids, k.KID) {
		t.Errorf("JWKS after rotate = %v", kids)
	}
	s.Clock.Advance(time.Hour)
	list = api.SigningKeyList{}
	adminCall(t, s, "GET", "/v1/signing-keys", s.AdminKey, &list)
	if l := es256(list); len(l) != 2 || l[0].State != "retired" || l[0].ExpiresAt == nil || l[1].State != "active" {
		t.Errorf("after the lead time: %+v", list.Keys)
	}

	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/v1/signing-keys", "", 401},
		{"POST", "/v1/signing-keys/rotate", "", 401},
		{"DELETE", "/v1/signing-keys/rotate", s.AdminKey, 405},
	} {
		if code := adminCall(t, s, c.method, c.path, c.token, nil); code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, code, c.want)
		}
	}
	evs, err := s.Client.ListAudit(t.Context(), client.AuditFilter{Action: "signing_key.rotate", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs.Events) != 2 || !slices.ContainsFunc(evs.Events, func(e api.AuditEvent) bool { return e.TargetID == k.KID }) ||
		evs.Events[0].Actor == "system" || evs.Events[1].Actor == "system" {
		t.Errorf("audit = %+v, want a rotation of each algorithm by the admin key", evs.Events)
	}
}

// accessClaims are the RFC 9068 claims the tests sign.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

type issued struct {
	token string
	exp   time.Time
}

// TestRotationWithGoOIDC verifies access tokens with an independent
// client, go-oidc's RemoteKeySet on the real JWKS URL, across signing-key
// rotations: every token verifies until it expires, with no failure.
func TestRotationWithGoOIDC(t *testing.T) {
	s := servertest.New(t)
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Payments", Audience: "https://pay.example",
		Scopes: []string{"read"}, KeyPrefix: "pay"})
	if err != nil {
		t.Fatal(err)
	}
	keySet := oidc.NewRemoteKeySet(context.Background(), s.URL+"/oauth2/jwks.json")
	verifier := oidc.NewVerifier(s.Issuer, keySet, &oidc.Config{SkipClientIDCheck: true,
		SupportedSigningAlgs: []string{oidc.ES256}, Now: s.Clock.Now})
	const ttl = 30 * time.Minute
	var live []issued
	verifications := 0
	issue := func() {
		now := s.Clock.Now()
		c := accessClaims{Iss: s.Issuer, Sub: "svc", Aud: a.Audience, Exp: now.Add(ttl).Unix(), Iat: now.Unix(),
			Jti: rand.Text(), ClientID: "svc", Scope: "read"}
		tok, err := s.Signer.Sign(c, "at+jwt")
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, issued{tok, now.Add(ttl)})
	}
	verifyAll := func(step string) {
		t.Helper()
		now := s.Clock.Now()
		live = slices.DeleteFunc(live, func(i issued) bool { return !now.Before(i.exp) })
		for _, i := range live {
			verifications++
			if _, err := verifier.Verify(t.Context(), i.token); err != nil {
				t.Fatalf("%s: go-oidc failed to verify a live token: %v", step, err)
			}
			// tokend's own /v1/verify agrees.
			res, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: i.token, Audience: a.Audience, Scopes: []string{"read"}})
			if err != nil || res.Code != api.CodeValid || res.Token.Kind != "jwt_access_token" {
				t.Fatalf("%s: /v1/verify = %+v, %v", step, res, err)
			}
		}
	}

	kidsSeen := map[string]bool{}
	for round := range 3 {
		// Sign and verify every 10 minutes through a rotation: during the
		// lead time the old key signs; then the new one does, while the
		// old one's tokens still verify.
		rotated := false
		for step := range 12 {
			if step == 2 {
				if _, err := s.Signer.Rotate(t.Context()); err != nil {
					t.Fatal(err)
				}
				rotated = true
			}
			issue()
			kidsSeen[tokenKID(t, live[len(live)-1].token)] = true
			verifyAll(fmt.Sprintf("round %d step %d (rotated %v)", round, step, rotated))
			s.Clock.Advance(10 * time.Minute)
			if err := s.Signer.Maintain(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(kidsSeen) != 4 {
		t.Errorf("tokens were signed by %d keys, want 4 (3 rotations)", len(kidsSeen))
	}
	if verifications < 50 {
		t.Errorf("only %d verifications", verifications)
	}
	t.Logf("%d verifications by go-oidc and /v1/verify, %d signing keys, no failure", verifications, len(kidsSeen))
}

func tokenKID(t *testing.T, tok string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}
