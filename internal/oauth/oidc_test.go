package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/oauth"
	"golang.org/x/oauth2"
)

// person creates the user alice, in group staff, and returns her id.
func (e *env) person(t testing.TB) string {
	t.Helper()
	u, err := e.Client.CreateUser(t.Context(), api.CreateUserRequest{Username: "alice", Email: "alice@example.com",
		DisplayName: "Alice Liddell", Groups: []string{"staff"}, Password: "Wq8-plum-ferry-Orbit-42"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// publicClient registers a public client (RFC 7591, no tokend
// extension) with loopback and https redirects.
func (e *env) publicClient(t testing.TB, scope string, grants ...string) string {
	t.Helper()
	body := map[string]any{"client_name": "CLI", "grant_types": grants, "token_endpoint_auth_method": "none",
		"scope": scope, "application_type": "native"}
	if slices.Contains(grants, "authorization_code") {
		body["redirect_uris"] = []string{"http://127.0.0.1/callback", "https://app.example/cb"}
	}
	status, out := e.register(t, http.MethodPost, "/oauth2/register", "", body)
	if status != 201 {
		t.Fatalf("register: %d %v", status, out)
	}
	if _, ok := out["client_secret"]; ok {
		t.Errorf("a public client got a secret: %v", out)
	}
	return out["client_id"].(string)
}

// oidcCtx is a context whose HTTP client is the default one, for
// go-oidc and x/oauth2.
func (e *env) provider(t *testing.T) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), e.Issuer)
	if err != nil {
		t.Fatalf("discovery with go-oidc: %v", err)
	}
	return p
}

// authorize runs the browser half of the code flow through the domain
// functions the /oauth2/authorize page calls: the request as the client
// built it, a sign-in by userID, consent, and the code redirect. It
// returns the redirect URL.
func (e *env) authorize(t *testing.T, authURL, userID string) *url.URL {
	t.Helper()
	ctx := t.Context()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	f, err := oauth.ParseForm([]byte(u.RawQuery))
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.OAuth.Authorize(ctx, f, testIP)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if step, err := e.OAuth.Decide(ctx, a, oauth.SignedIn{}); step != oauth.StepLogin || err != nil {
		t.Fatalf("Decide(nobody) = %v, %v, want StepLogin", step, err)
	}
	who := oauth.SignedIn{UserID: userID, SessionID: "ses_test", AuthTime: e.Clock.Now(), AMR: []string{"pwd"}}
	step, err := e.OAuth.Decide(ctx, a, who)
	if err != nil {
		t.Fatal(err)
	}
	if step == oauth.StepConsent {
		if err := e.OAuth.Consent(ctx, auditActor(userID), a, userID); err != nil {
			t.Fatal(err)
		}
		if step, err = e.OAuth.Decide(ctx, a, who); step != oauth.StepIssue || err != nil {
			t.Fatalf("Decide after consent = %v, %v", step, err)
		}
	}
	to, err := e.OAuth.IssueCode(ctx, a, who)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCodeFlowWithGoOIDC runs the authorization code flow with PKCE
// against a real tokend with golang.org/x/oauth2 as the client and
// github.com/coreos/go-oidc as the relying party: discovery, the code
// exchange by a public client, ID-token verification (signature, nonce,
// at_hash), userinfo, the access token at /v1/verify, refresh, and a
// replayed code revoking what it issued.
func TestCodeFlowWithGoOIDC(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.person(t)
	id := e.publicClient(t, "openid profile email groups offline_access read",
		"authorization_code", "refresh_token")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1:53682/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups", oidc.ScopeOfflineAccess, "read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce"),
		oauth2.SetAuthURLParam("resource", e.billing.Audience))
	back := e.authorize(t, authURL, alice)
	q := back.Query()
	if back.Host != "127.0.0.1:53682" || q.Get("state") != "st4te" || q.Get("iss") != e.Issuer || q.Get("code") == "" {
		t.Fatalf("redirect %s: want the loopback port, state, iss (RFC 9207) and a code", back)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	v := p.Verifier(&oidc.Config{ClientID: id, Now: e.Clock.Now})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Nonce, Email, Name, PreferredUsername string
		Groups                                []string
		AMR                                   []string
		AuthTime                              int64 `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != alice || claims.Nonce != "n0nce" || claims.Email != "alice@example.com" ||
		len(claims.Groups) != 1 || claims.AMR[0] != "pwd" || claims.AuthTime != e.Clock.Now().Unix() {
		t.Errorf("ID token claims %+v sub %s", claims, idt.Subject)
	}
	if !strings.HasPrefix(raw, headerRS256) {
		t.Errorf("ID token is not RS256 by default: %s", raw[:40])
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != alice || ui.Email != "alice@example.com" {
		t.Errorf("userinfo = %+v", ui)
	}
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience, "read"); c != api.CodeValid {
		t.Errorf("the access token for billing verifies as %s", c)
	}
	old := *tok
	old.Expiry = time.Now().Add(-time.Hour)
	fresh, err := cfg.TokenSource(ctx, &old).Token()
	if err != nil || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v (rotated %v)", err, fresh != nil && fresh.RefreshToken != tok.RefreshToken)
	}

	// The code again: refused, and everything it issued is revoked.
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	checkRetrieve(t, "replayed code", err, "invalid_grant")
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience); c == api.CodeValid {
		t.Error("the access token of a replayed code is still valid")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
		t.Error("the refresh family of a replayed code still refreshes")
	}
}

// headerRS256 is how the base64url JSON header {"alg":"RS256", starts.
const headerRS256 = "eyJhbGciOiJSUzI1NiIs"

func checkRetrieve(t *testing.T, what string, err error, code string) {
	t.Helper()
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok || re.ErrorCode != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// TestCodeGrantRefusals presents codes wrongly: without or with a wrong
// PKCE verifier, with another redirect URI, by another client, for
// another resource; each is refused and leaves the code good for the
// right request.
func TestCodeGrantRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, http.DefaultClient)
	alice := e.person(t)
	id := e.publicClient(t, "openid", "authorization_code")
	other := e.publicClient(t, "openid", "authorization_code")
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "https://app.example/cb", Scopes: []string{"openid"}}
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), alice).Query().Get("code")

	_, err := cfg.Exchange(ctx, code)
	checkRetrieve(t, "no verifier", err, "invalid_request")
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	checkRetrieve(t, "wrong verifier", err, "invalid_grant")
	moved := cfg
	moved.RedirectURL = "http://127.0.0.1/callback"
	_, err = moved.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "other redirect_uri", err, "invalid_grant")
	thief := cfg
	thief.ClientID = other
	_, err = thief.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "another client", err, "invalid_grant")
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", e.billing.Audience))
	checkRetrieve(t, "another resource", err, "invalid_target")
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("the right exchange after the refusals: %v", err)
	}
	e.Clock.Advance(2 * time.Minute)
	late := e.authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), alice).Query().Get("code")
	e.Clock.Advance(oauth.CodeTTL)
	_, err = cfg.Exchange(ctx, late, oauth2.VerifierOption(verifier))
	checkRetrieve(t, "expired code", err, "invalid_grant")
}

func auditActor(id string) audit.Actor { return audit.Actor{ID: id} }
