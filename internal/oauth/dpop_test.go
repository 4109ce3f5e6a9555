package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// dpopCtx is a context whose x/oauth2 HTTP client sends proofs of a new
// key; it returns the key and the transport.
func (e *env) dpopCtx(t *testing.T) (context.Context, *dpop.Key, *servertest.DPoPTransport) {
	t.Helper()
	key := e.NewDPoPKey(t)
	hc, tr := servertest.DPoPClient(key)
	return context.WithValue(t.Context(), oauth2.HTTPClient, hc), key, tr
}

func jwtClaims(t *testing.T, token string) credential.AccessClaims {
	t.Helper()
	c, err := credential.UnverifiedAccessClaims(token)
	if err != nil {
		t.Fatalf("access token claims: %v", err)
	}
	return c
}

// TestDPoPClientCredentials gets DPoP-bound tokens with golang.org/x/oauth2
// whose HTTP client adds go-jose-made proofs: the first request is
// refused with use_dpop_nonce and a nonce, the retry succeeds; the token
// is of type DPoP and carries cnf.jkt (in the JWT, in introspection and
// at /v1/verify).
func TestDPoPClientCredentials(t *testing.T) {
	e := newEnv(t)
	for _, format := range []string{"jwt", "opaque"} {
		t.Run(format, func(t *testing.T) {
			c := e.client(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = format })
			ctx, key, tr := e.dpopCtx(t)
			cfg := clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: e.URL + "/oauth2/token",
				EndpointParams: url.Values{"resource": {e.billing.Audience}}}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatalf("client credentials with DPoP: %v", err)
			}
			if tok.TokenType != "DPoP" || tr.Retries.Load() != 1 || tr.Nonce() == "" {
				t.Errorf("token_type %q after %d nonce retries (nonce %q), want DPoP after 1", tok.TokenType, tr.Retries.Load(), tr.Nonce())
			}
			if format == "jwt" {
				if got := jwtClaims(t, tok.AccessToken).BoundKey(); got != key.JKT() {
					t.Errorf("cnf.jkt = %q, want %q", got, key.JKT())
				}
			}
			in := e.introspectAsKey(t, e.AdminKey, tok.AccessToken)
			cnf, _ := in.Raw["cnf"].(map[string]any)
			if in.Raw["token_type"] != "DPoP" || cnf["jkt"] != key.JKT() {
				t.Errorf("introspection = %v, want token_type DPoP and cnf.jkt %s", in.Raw, key.JKT())
			}
			r, err := e.Client.Verify(t.Context(), api.VerifyRequest{Token: tok.AccessToken})
			if err != nil || r.Code != api.CodeInvalidDPoPProof {
				t.Errorf("/v1/verify without a proof = %+v, %v; want INVALID_DPOP_PROOF", r, err)
			}
			const u = "https://billing.example/v1/invoices"
			proof, err := key.Proof("GET", u, tok.AccessToken, tr.Nonce())
			if err != nil {
				t.Fatal(err)
			}
			r, err = e.Client.Verify(t.Context(), api.VerifyRequest{Token: tok.AccessToken,
				DPoP: &api.VerifyDPoP{Proof: proof, Method: "GET", URL: u}})
			if err != nil || r.Code != api.CodeValid || r.Token.JKT != key.JKT() {
				t.Errorf("/v1/verify with a proof = %+v, %v; want VALID with the token's jkt", r, err)
			}
			// The refresh token of a confidential client is bound to its
			// authentication, not to the key (RFC 9449 §5).
			fresh := e.refresh(t, c, tok.RefreshToken)
			if fresh.Status != 200 || fresh.Raw["token_type"] != "Bearer" {
				t.Errorf("refresh without a proof = %d %v, want a Bearer token", fresh.Status, fresh.Raw)
			}
		})
	}
	t.Run("without proof", func(t *testing.T) {
		c := e.client(t, nil)
		a := e.token(t, c, "resource", e.billing.Audience)
		if a.Raw["token_type"] != "Bearer" || jwtClaims(t, a.AccessToken).Confirmation != nil {
			t.Errorf("a token without a proof = %v, want an unbound Bearer token", a.Raw)
		}
	})
}

// TestDPoPBoundClient: a client registered with dpop_bound_access_tokens
// (RFC 9449 §5.2) gets nothing without a proof.
func TestDPoPBoundClient(t *testing.T) {
	e := newEnv(t)
	status, out := e.register(t, http.MethodPost, "/oauth2/register", "", map[string]any{"client_name": "bound",
		"grant_types": []string{"client_credentials"}, "dpop_bound_access_tokens": true, "scope": "read"})
	if status != 201 || out["dpop_bound_access_tokens"] != true {
		t.Fatalf("register = %d %v, want dpop_bound_access_tokens true", status, out)
	}
	c := &api.CreatedClient{Client: api.Client{ID: out["client_id"].(string)}, Secret: out["client_secret"].(string)}
	a := e.post(t, "/oauth2/token", c, form("grant_type", "client_credentials"))
	if a.Status != 400 || a.Error != dpop.CodeInvalidProof {
		t.Errorf("token request without a proof = %d %v, want 400 invalid_dpop_proof", a.Status, a.Raw)
	}
	ctx, _, _ := e.dpopCtx(t)
	cfg := clientcredentials.Config{ClientID: c.Client.ID, ClientSecret: c.Secret, TokenURL: e.URL + "/oauth2/token"}
	if tok, err := cfg.Token(ctx); err != nil || tok.TokenType != "DPoP" {
		t.Errorf("with a proof: %v, %v; want a DPoP token", tok, err)
	}
	// The management API shows and changes the setting.
	got, err := e.Client.GetClient(t.Context(), c.Client.ID)
	if err != nil || !got.DPoPBoundAccessTokens {
		t.Errorf("GET client = %+v, %v; want dpop_bound_access_tokens", got, err)
	}
}

// TestDPoPCodeAndPublicRefresh binds a code with dpop_jkt (RFC 9449 §10)
// and a public client's refresh token to the key (§5): another key or no
// proof is refused, and changes nothing.
func TestDPoPCodeAndPublicRefresh(t *testing.T) {
	e := newEnv(t)
	alice := e.person(t)
	id := e.publicClient(t, "openid offline_access read", "authorization_code", "refresh_token")
	ctx, key, _ := e.dpopCtx(t)
	otherCtx, _, _ := e.dpopCtx(t)
	plain := context.WithValue(t.Context(), oauth2.HTTPClient, http.DefaultClient)
	cfg := oauth2.Config{ClientID: id, Endpoint: e.provider(t).Endpoint(), RedirectURL: "https://app.example/cb",
		Scopes: []string{"openid", "offline_access", "read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("dpop_jkt", key.JKT()),
		oauth2.SetAuthURLParam("resource", e.billing.Audience))
	code := e.authorize(t, authURL, alice).Query().Get("code")

	_, err := cfg.Exchange(plain, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "code without a proof", err, dpop.CodeInvalidProof)
	_, err = cfg.Exchange(otherCtx, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "code with another key", err, "invalid_grant")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange with the bound key: %v", err)
	}
	if tok.TokenType != "DPoP" || jwtClaims(t, tok.AccessToken).BoundKey() != key.JKT() || tok.RefreshToken == "" {
		t.Fatalf("token = %q bound to %q, refresh %v", tok.TokenType, jwtClaims(t, tok.AccessToken).BoundKey(), tok.RefreshToken != "")
	}
	in := e.introspectAsKey(t, e.AdminKey, tok.RefreshToken)
	if cnf, _ := in.Raw["cnf"].(map[string]any); cnf["jkt"] != key.JKT() {
		t.Errorf("refresh token introspection = %v, want cnf.jkt", in.Raw)
	}

	old := *tok
	old.Expiry = time.Now().Add(-time.Hour)
	_, err = cfg.TokenSource(plain, &old).Token()
	checkRetrieve(t, "refresh without a proof", err, dpop.CodeInvalidProof)
	_, err = cfg.TokenSource(otherCtx, &old).Token()
	checkRetrieve(t, "refresh with another key", err, "invalid_grant")
	fresh, err := cfg.TokenSource(ctx, &old).Token()
	if err != nil {
		t.Fatalf("refresh with the bound key after the refusals: %v", err)
	}
	if fresh.TokenType != "DPoP" || jwtClaims(t, fresh.AccessToken).BoundKey() != key.JKT() {
		t.Errorf("refreshed token = %q, want DPoP bound to the key", fresh.TokenType)
	}
	// The rotated refresh token is bound too.
	stale := *fresh
	stale.Expiry = time.Now().Add(-time.Hour)
	_, err = cfg.TokenSource(otherCtx, &stale).Token()
	checkRetrieve(t, "rotated refresh token with another key", err, "invalid_grant")

	bad := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("dpop_jkt", "not-a-thumbprint"))
	f, _ := url.Parse(bad)
	pf, _ := oauth.ParseForm([]byte(f.RawQuery))
	if _, err := e.OAuth.Authorize(t.Context(), pf, testIP); err == nil || !strings.Contains(err.Error(), "dpop_jkt") {
		t.Errorf("Authorize(bad dpop_jkt) = %v, want an invalid_request about dpop_jkt", err)
	}
}

// TestDPoPTokenEndpointRefusals sends bad proofs to the token endpoint:
// each gets a 400 with its RFC 9449 code, repeats nothing of the proof,
// and issues nothing.
func TestDPoPTokenEndpointRefusals(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, nil)
	key := e.NewDPoPKey(t)
	nonce := e.DPoP.Nonce()
	tokenURL := e.URL + "/oauth2/token"
	good := func() string {
		p, err := key.Proof("POST", tokenURL, "", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	replayed := good()
	if a := e.postDPoP(t, c, replayed); a.Status != 200 {
		t.Fatalf("a good proof: %d %v", a.Status, a.Raw)
	}
	for _, tt := range []struct {
		name    string
		headers []string
		code    string
		nonce   bool
	}{
		{"two headers", []string{good(), good()}, dpop.CodeInvalidProof, false},
		{"replayed", []string{replayed}, dpop.CodeInvalidProof, false},
		{"garbage", []string{"not.a.proof"}, dpop.CodeInvalidProof, false},
		{"other htu", []string{mustProof(t, key, "POST", e.URL+"/oauth2/introspect", nonce)}, dpop.CodeInvalidProof, false},
		{"other htm", []string{mustProof(t, key, "GET", tokenURL, nonce)}, dpop.CodeInvalidProof, false},
		{"no nonce", []string{mustProof(t, key, "POST", tokenURL, "")}, dpop.CodeUseNonce, true},
		{"forged nonce", []string{mustProof(t, key, "POST", tokenURL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}, dpop.CodeUseNonce, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, h := e.postDPoPHeaders(t, c, tt.headers...)
			if a.Status != 400 || a.Error != tt.code {
				t.Errorf("= %d %v, want 400 %s", a.Status, a.Raw, tt.code)
			}
			if got := h.Get("DPoP-Nonce"); tt.nonce && got == "" {
				t.Error("use_dpop_nonce without a DPoP-Nonce header")
			}
			if desc, _ := a.Raw["error_description"].(string); strings.Contains(desc, "eyJ") || a.AccessToken != "" {
				t.Errorf("answer %v repeats the proof or issues a token", a.Raw)
			}
		})
	}
	e.Clock.Advance(11 * time.Minute) // two nonce periods later
	a, _ := e.postDPoPHeaders(t, c, mustProof(t, key, "POST", tokenURL, nonce))
	if a.Status != 400 || a.Error != dpop.CodeUseNonce {
		t.Errorf("a stale nonce = %d %v, want use_dpop_nonce", a.Status, a.Raw)
	}
	var meta map[string]any
	res, err := http.Get(e.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&meta)
	res.Body.Close()
	if algs, _ := json.Marshal(meta["dpop_signing_alg_values_supported"]); string(algs) != `["ES256","EdDSA","Ed25519","RS256","PS256"]` {
		t.Errorf("dpop_signing_alg_values_supported = %s", algs)
	}
}

func mustProof(t *testing.T, k *dpop.Key, method, u, nonce string) string {
	t.Helper()
	p, err := k.Proof(method, u, "", nonce)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) postDPoP(t *testing.T, c *api.CreatedClient, proof string) answer {
	a, _ := e.postDPoPHeaders(t, c, proof)
	return a
}

// postDPoPHeaders sends client_credentials for c with the given DPoP
// headers and returns the answer and its headers.
func (e *env) postDPoPHeaders(t *testing.T, c *api.CreatedClient, proofs ...string) (answer, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+"/oauth2/token",
		strings.NewReader(form("grant_type", "client_credentials", "resource", e.billing.Audience).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.Client.ID, c.Secret)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a answer
	json.NewDecoder(res.Body).Decode(&a.Raw)
	b, _ := json.Marshal(a.Raw)
	json.Unmarshal(b, &a)
	a.Status = res.StatusCode
	return a, res.Header
}

// postPAR pushes params to /oauth2/par with the given DPoP headers.
func (e *env) postPAR(t *testing.T, params url.Values, proofs ...string) (answer, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+oauth.PARPath, strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	var h http.Header
	a := do(t, req, func(r *http.Response) { h = r.Header })
	return a, h
}

// TestDPoPPushedAuthorizationRequest binds a code through the DPoP
// header of a pushed authorization request (RFC 9449 §10.1): the code is
// then redeemed only with a proof of that key. A proof for another URL,
// a dpop_jkt of another key, a stale nonce and two DPoP headers are each
// refused with the RFC 9449 code, and push nothing.
func TestDPoPPushedAuthorizationRequest(t *testing.T) {
	e := newEnv(t)
	alice := e.person(t)
	id := e.publicClient(t, "openid read", "authorization_code")
	ctx, key, _ := e.dpopCtx(t)
	otherCtx, other, _ := e.dpopCtx(t)
	plain := context.WithValue(t.Context(), oauth2.HTTPClient, http.DefaultClient)
	verifier := oauth2.GenerateVerifier()
	params := func(kv ...string) url.Values {
		return form(append([]string{"client_id", id, "redirect_uri", "https://app.example/cb", "response_type", "code",
			"state", "s1", "scope", "openid read", "resource", e.billing.Audience, "code_challenge", oauth2.S256ChallengeFromVerifier(verifier),
			"code_challenge_method", "S256"}, kv...)...)
	}
	parURL := e.URL + oauth.PARPath
	proof := func(k *dpop.Key, method, u, nonce string) string {
		p, err := k.Proof(method, u, "", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	nonce := e.DPoP.Nonce()

	bad := []struct {
		name   string
		params url.Values
		proofs []string
		code   string
	}{
		{"proof for the token endpoint", params(), []string{proof(key, "POST", e.URL+"/oauth2/token", nonce)}, dpop.CodeInvalidProof},
		{"proof for GET", params(), []string{proof(key, "GET", parURL, nonce)}, dpop.CodeInvalidProof},
		{"dpop_jkt of another key", params("dpop_jkt", other.JKT()), []string{proof(key, "POST", parURL, nonce)}, dpop.CodeInvalidProof},
		{"stale nonce", params(), []string{proof(key, "POST", parURL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}, dpop.CodeUseNonce},
		{"two DPoP headers", params(), []string{proof(key, "POST", parURL, nonce), proof(key, "POST", parURL, nonce)}, dpop.CodeInvalidProof},
	}
	for _, tt := range bad {
		a, h := e.postPAR(t, tt.params, tt.proofs...)
		if a.Status != 400 || a.Error != tt.code || a.Raw["request_uri"] != nil {
			t.Errorf("PAR with %s = %d %v, want 400 %s", tt.name, a.Status, a.Raw, tt.code)
		}
		if tt.code == dpop.CodeUseNonce && h.Get("DPoP-Nonce") != nonce {
			t.Errorf("PAR with %s: DPoP-Nonce %q, want %q", tt.name, h.Get("DPoP-Nonce"), nonce)
		}
	}

	a, _ := e.postPAR(t, params(), proof(key, "POST", parURL, nonce))
	uri, _ := a.Raw["request_uri"].(string)
	if a.Status != 201 || uri == "" {
		t.Fatalf("PAR with a proof = %d %v", a.Status, a.Raw)
	}
	cfg := oauth2.Config{ClientID: id, Endpoint: e.provider(t).Endpoint(), RedirectURL: "https://app.example/cb"}
	code := e.authorize(t, e.URL+"/oauth2/authorize?"+url.Values{"client_id": {id}, "request_uri": {uri}}.Encode(), alice).Query().Get("code")
	_, err := cfg.Exchange(plain, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "code of a DPoP PAR without a proof", err, dpop.CodeInvalidProof)
	_, err = cfg.Exchange(otherCtx, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "code of a DPoP PAR with another key", err, "invalid_grant")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange with the PAR's key: %v", err)
	}
	if tok.TokenType != "DPoP" || jwtClaims(t, tok.AccessToken).BoundKey() != key.JKT() {
		t.Errorf("token = %q bound to %q, want DPoP bound to %q", tok.TokenType, jwtClaims(t, tok.AccessToken).BoundKey(), key.JKT())
	}

	e.checkDPoPUserinfo(t, key, other, tok.AccessToken, nonce)

	// dpop_jkt and a proof of the same key agree.
	a, _ = e.postPAR(t, params("dpop_jkt", key.JKT()), proof(key, "POST", parURL, nonce))
	if a.Status != 201 {
		t.Errorf("PAR with dpop_jkt and a proof of its key = %d %v", a.Status, a.Raw)
	}
}

// checkDPoPUserinfo: the userinfo endpoint is a protected resource (RFC
// 9449 §7): the bound token tok is refused as a bearer token, without a
// proof, with a proof of other, for another URL or replayed, and
// accepted as DPoP with a proof of key.
func (e *env) checkDPoPUserinfo(t *testing.T, key, other *dpop.Key, tok, nonce string) {
	t.Helper()
	u := e.URL + oauth.UserinfoPath
	get := func(auth string, proofs ...string) (answer, http.Header) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", u, nil)
		req.Header.Set("Authorization", auth)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		var h http.Header
		a := do(t, req, func(r *http.Response) { h = r.Header })
		return a, h
	}
	proof := func(k *dpop.Key, url string) string {
		p, err := k.Proof("GET", url, tok, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	once := proof(key, u)
	if a, _ := get("DPoP "+tok, once); a.Status != 200 || a.Raw["sub"] == nil {
		t.Fatalf("userinfo with DPoP and a proof = %d %v", a.Status, a.Raw)
	}
	for _, tt := range []struct {
		name, auth, proof, code, challenge string
	}{
		{"as bearer", "Bearer " + tok, "", "invalid_token", `Bearer realm="tokend", error="invalid_token"`},
		{"DPoP without a proof", "DPoP " + tok, "", dpop.CodeInvalidProof, `DPoP realm="tokend", error="invalid_dpop_proof"`},
		{"proof of another key", "DPoP " + tok, proof(other, u), "invalid_token", `Bearer realm="tokend", error="invalid_token"`},
		{"proof for another URL", "DPoP " + tok, proof(key, e.URL+"/oauth2/token"), dpop.CodeInvalidProof, `DPoP realm="tokend", error="invalid_dpop_proof"`},
		{"replayed proof", "DPoP " + tok, once, dpop.CodeInvalidProof, `DPoP realm="tokend", error="invalid_dpop_proof"`},
	} {
		var proofs []string
		if tt.proof != "" {
			proofs = append(proofs, tt.proof)
		}
		a, h := get(tt.auth, proofs...)
		if a.Status != 401 || a.Error != tt.code || !strings.HasPrefix(h.Get("WWW-Authenticate"), tt.challenge) || a.Raw["sub"] != nil {
			t.Errorf("userinfo %s = %d %s %q; want 401 %s", tt.name, a.Status, a.Error, h.Get("WWW-Authenticate"), tt.code)
		}
	}
}
