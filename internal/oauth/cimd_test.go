package oauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
)

// docServer serves client ID metadata documents on 127.0.0.1: at each
// path the document set for it, with client_id defaulting to its own
// URL, and the Cache-Control header cc. It counts the requests.
type docServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	docs map[string]map[string]any
	cc   string
}

func newDocServer(t *testing.T) *docServer {
	t.Helper()
	d := &docServer{docs: map[string]map[string]any{}, cc: "max-age=300"}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		d.mu.Lock()
		doc, ok := d.docs[r.URL.Path]
		d.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", d.cc)
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(d.Close)
	return d
}

// set publishes doc at path and returns its URL, the client_id.
func (d *docServer) set(path string, doc map[string]any) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := doc["client_id"]; !ok {
		doc["client_id"] = d.URL + path
	}
	d.docs[path] = doc
	return d.URL + path
}

func cimdEnv(t *testing.T, f oauth.DocumentFetcher) *env {
	t.Helper()
	return startEnv(t, servertest.Options{Documents: f})
}

// TestMetadataDocumentFlow runs the code flow with golang.org/x/oauth2
// and go-oidc for a client whose client_id is the URL of its metadata
// document (draft-ietf-oauth-client-id-metadata-document), served on
// 127.0.0.1, which only the development setting of the fetcher allows:
// discovery advertises it, the consent names the document's host, the
// document is fetched once while its Cache-Control allows reuse, and a
// changed document counts once that runs out.
func TestMetadataDocumentFlow(t *testing.T) {
	docs := newDocServer(t)
	e := cimdEnv(t, fetch.New(fetch.Config{InsecureAllowPrivate: true}))
	ctx := t.Context()
	alice := e.person(t)
	id := docs.set("/clients/cli.json", map[string]any{"client_name": "Doc CLI", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		"scope": "openid email read", "application_type": "native", "unknown_member": true})
	p := e.provider(t)
	var meta struct {
		CIMD bool `json:"client_id_metadata_document_supported"`
	}
	if err := p.Claims(&meta); err != nil || !meta.CIMD {
		t.Errorf("discovery: client_id_metadata_document_supported = %v (%v), want true", meta.CIMD, err)
	}
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1:41234/callback",
		Scopes: []string{oidc.ScopeOpenID, "email", "read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n"))

	f, _ := oauth.ParseForm([]byte(strings.SplitN(authURL, "?", 2)[1]))
	a, err := e.OAuth.Authorize(ctx, f, testIP)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if cr := e.OAuth.ConsentFor(a); cr.ClientName != "Doc CLI" || !cr.Dynamic || cr.DocumentHost != strings.TrimPrefix(docs.URL, "http://") {
		t.Errorf("ConsentFor = %+v, want the document's host", cr)
	}
	back := e.authorize(t, authURL, alice)
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: id, Now: e.Clock.Now}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Subject != alice {
		t.Errorf("ID token subject %s", idt.Subject)
	}
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience, "read"); c != api.CodeValid {
		t.Errorf("the access token verifies as %s", c)
	}
	if n := docs.hits.Load(); n != 1 {
		t.Errorf("the document was fetched %d times during its max-age; want once", n)
	}

	// The same document fetched again changes nothing stored.
	before, err := e.DB.ClientByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(301 * time.Second)
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Errorf("Authorize after the document went stale: %v", err)
	}
	if after, err := e.DB.ClientByID(ctx, id); err != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("refetching the same document updated the client: %v", err)
	}

	// A changed document takes effect once the cached one is stale.
	docs.set("/clients/cli.json", map[string]any{"client_id": id, "client_name": "Doc CLI",
		"redirect_uris": []string{"https://new.example/cb"}})
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Errorf("Authorize with the cached document: %v", err)
	}
	e.Clock.Advance(301 * time.Second)
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "invalid_request") {
		t.Errorf("Authorize with a redirect URI the new document dropped: %v, want invalid_request", err)
	}
	if n := docs.hits.Load(); n != 3 {
		t.Errorf("the document was fetched %d times; want 3", n)
	}
}

// TestMetadataDocumentRefusals: a client_id URL on a loopback or
// link-local address (the cloud metadata service) is refused with a
// clear error before anything is fetched when the development setting
// is off; documents that lie about their client_id, ask for secrets or
// private_key_jwt, or register a javascript: redirect are refused; and
// none of them leaves a client behind.
func TestMetadataDocumentRefusals(t *testing.T) {
	docs := newDocServer(t)
	ctx := t.Context()
	good := docs.set("/good.json", map[string]any{"redirect_uris": []string{"https://app.example/cb"}})
	authorize := func(e *env, id string) error {
		f, err := oauth.ParseForm([]byte(form("client_id", id, "redirect_uri", "https://app.example/cb", "response_type", "code",
			"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256").Encode()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.OAuth.Authorize(ctx, f, testIP)
		return err
	}
	strict := cimdEnv(t, fetch.New(fetch.Config{}))
	for _, id := range []string{good, strings.Replace(good, "http://", "https://", 1),
		"https://169.254.169.254/latest/meta-data/client.json", "https://localhost" + docs.URL[strings.LastIndex(docs.URL, ":"):] + "/good.json"} {
		err := authorize(strict, id)
		e, ok := errors.AsType[*oauth.Error](err)
		if !ok || e.Code != "invalid_client" || !strings.Contains(e.Description, "could not be fetched") {
			t.Errorf("client_id %s: %v, want invalid_client saying the document could not be fetched", id, err)
		}
		if id != good && (e == nil || !strings.Contains(e.Description, "not a public address")) {
			t.Errorf("client_id %s: %v does not say the address is not public", id, err)
		}
		// The token endpoint refuses it the same way, 401.
		a := strict.post(t, "/oauth2/token", nil, form("grant_type", "authorization_code", "client_id", id, "code", "x"))
		if a.Status != 401 || a.Error != "invalid_client" {
			t.Errorf("token endpoint with client_id %s: %d %s, want 401 invalid_client", id, a.Status, a.Error)
		}
	}
	if n := docs.hits.Load(); n != 0 {
		t.Errorf("the document server got %d requests; want none", n)
	}

	open := cimdEnv(t, fetch.New(fetch.Config{InsecureAllowPrivate: true}))
	redirect := []string{"https://app.example/cb"}
	for name, tc := range map[string]struct {
		doc  map[string]any
		want string
	}{
		"client_id of another URL": {map[string]any{"client_id": "https://other.example/c.json", "redirect_uris": redirect}, "not its own URL"},
		"secret method":            {map[string]any{"token_endpoint_auth_method": "client_secret_basic", "redirect_uris": redirect}, "shared secret"},
		"private_key_jwt":          {map[string]any{"token_endpoint_auth_method": "private_key_jwt", "redirect_uris": redirect}, "not supported"},
		"client secret":            {map[string]any{"client_secret": "s3cret", "redirect_uris": redirect}, "client secret"},
		"javascript redirect":      {map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "scheme cannot be a redirect URI"},
		"fragment redirect":        {map[string]any{"redirect_uris": []string{"https://app.example/cb#x"}}, "fragment"},
		"client_credentials":       {map[string]any{"grant_types": []string{"client_credentials"}}, "public clients"},
	} {
		id := docs.set("/"+strings.ReplaceAll(name, " ", "-")+".json", tc.doc)
		err := authorize(open, id)
		if e, ok := errors.AsType[*oauth.Error](err); !ok || e.Code != "invalid_client" || !strings.Contains(e.Description, tc.want) {
			t.Errorf("%s: %v, want invalid_client saying %q", name, err, tc.want)
		}
	}
	for id, want := range map[string]string{
		docs.URL:                     "must have a path",
		docs.URL + "/a/../good.json": "path segments",
		docs.URL + "/missing.json":   "404",
	} {
		if err := authorize(open, id); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("client_id %s: %v, want an error saying %q", id, err, want)
		}
	}
	for _, e := range []*env{strict, open} {
		// The built-in CLI client is the only one.
		if cs, err := e.Client.ListClients(ctx, "", 100); err != nil || len(cs.Clients) != 1 || cs.Clients[0].ID != oauth.CLIClientID {
			t.Errorf("clients after the refusals: %v %v, want only the built-in CLI client", cs, err)
		}
	}
	if err := authorize(open, good); err != nil {
		t.Errorf("the good document: %v", err)
	}

	// Without a fetcher, client_id URLs are refused and not advertised.
	off := newEnv(t)
	if err := authorize(off, good); !isOAuthError(err, "invalid_client") {
		t.Errorf("without documents: %v, want invalid_client", err)
	}
	if off.OAuth.Metadata().ClientIDMetadataDocumentSupported {
		t.Error("metadata advertises documents without a fetcher")
	}
}

// TestMetadataDocumentNoStoreFetchedOncePerRequest pushes authorization
// requests (RFC 9126) for a client whose metadata document is served
// with Cache-Control: no-store: each request fetches the document once,
// client authentication and the check of the pushed request sharing that
// fetch, and no request reuses another's. The pushed request then runs
// the code flow with golang.org/x/oauth2, one fetch per request still.
func TestMetadataDocumentNoStoreFetchedOncePerRequest(t *testing.T) {
	docs := newDocServer(t)
	docs.cc = "no-store"
	e := cimdEnv(t, fetch.New(fetch.Config{InsecureAllowPrivate: true}))
	alice := e.person(t)
	id := docs.set("/clients/par.json", map[string]any{"client_name": "PAR CLI", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none", "scope": "openid read"})
	verifier := oauth2.GenerateVerifier()
	params := form("client_id", id, "redirect_uri", "http://127.0.0.1/callback", "response_type", "code", "scope", "openid read",
		"state", "st", "code_challenge", oauth2.S256ChallengeFromVerifier(verifier), "code_challenge_method", "S256")
	var uri string
	for i := range 2 {
		a := e.post(t, "/oauth2/par", nil, params)
		uri, _ = a.Raw["request_uri"].(string)
		if a.Status != 201 || uri == "" {
			t.Fatalf("PAR %d: %d %v, want 201 with a request_uri", i+1, a.Status, a.Raw)
		}
		if n := docs.hits.Load(); n != int32(i+1) {
			t.Fatalf("after %d pushed requests the document was fetched %d times, want %d", i+1, n, i+1)
		}
	}
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1/callback"}
	back := e.authorize(t, cfg.AuthCodeURL("", oauth2.SetAuthURLParam("request_uri", uri)), alice)
	tok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if c := e.verifyCode(t, tok.AccessToken, e.billing.Audience, "read"); c != api.CodeValid {
		t.Errorf("the access token verifies as %s", c)
	}
	if n := docs.hits.Load(); n != 4 {
		t.Errorf("two pushed requests, an authorization and a token request fetched the document %d times, want 4", n)
	}
}
