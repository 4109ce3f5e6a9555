package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
)

// TestBrowserMetadataDocumentClient: an app whose client_id is the URL of
// its client ID metadata document (served on 127.0.0.1, allowed by the
// fetcher's development setting) signs a person in through the real
// pages; the consent page names the host that publishes the document.
func TestBrowserMetadataDocumentClient(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true})})
	ctx := t.Context()
	newUser(t, s, "rosa", alicePW, false)
	rp := newRelyingParty(t)
	var id string
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_name": "Doc App",
			"redirect_uris": []string{rp.URL + "/callback"}, "token_endpoint_auth_method": "none"})
	}))
	t.Cleanup(docs.Close)
	id = docs.URL + "/oauth/client.json"
	p, err := oidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: rp.URL + "/callback", Scopes: []string{oidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()

	b := newBrowser(t)
	b.do(chromedp.Navigate(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.submit([][2]string{{"#username", "rosa"}, {"#password", alicePW}}, "main form button[type=submit]", "button[value=allow]")
	mustContain(t, "consent page", b.text("main"), "Doc App", "published by "+strings.TrimPrefix(docs.URL, "http://"))
	b.do(chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#back")))
	q := rp.query()
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("Exchange for the document's client: %v (back with %v)", err, q)
	}
}
