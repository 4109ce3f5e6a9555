package multinode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDocumentFetchLimitAcrossNodes: two real nodes with --cimd on one
// PostgreSQL and one Redis limit together the client ID metadata
// documents one client address makes them fetch (--cimd-rate-limit 4):
// four fetches spread over both nodes pass, the fifth document is refused
// at either node, at the browser authorization endpoint (429 error page
// with Retry-After) and the token endpoint (429 temporarily_unavailable
// JSON with Retry-After), without a fetch; another address still gets
// its documents fetched.
func TestDocumentFetchLimitAcrossNodes(t *testing.T) {
	pg, redis, tokend := services(t)
	var hits atomic.Int32
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"client_id": "http://" + r.Host + r.URL.Path, "client_name": "app",
			"redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "none"})
	}))
	t.Cleanup(docs.Close)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", redisURL(redis),
		"--cimd", "--cimd-insecure-allow-private", "--cimd-rate-limit", "4")
	doc := func(i int) string { return fmt.Sprintf("%s/clients/%d.json", docs.URL, i) }
	noRedirect := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	one, other := noRedirect(fromIP(t, 401)), noRedirect(fromIP(t, 402))
	authorize := func(c *http.Client, n *Node, id string) (int, string, string) {
		t.Helper()
		q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"},
			"scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		res, err := c.Get(n.URL + "/oauth2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Retry-After"), string(b)
	}
	for i, n := range []*Node{p.a, p.b, p.a, p.b} {
		if code, _, body := authorize(one, n, doc(i)); code == http.StatusTooManyRequests {
			t.Fatalf("fetch %d: %d %s; want it admitted", i+1, code, body)
		}
	}
	if code, retry, body := authorize(one, p.a, doc(4)); code != http.StatusTooManyRequests || retry == "" ||
		!strings.Contains(body, "too many client ID metadata documents") {
		t.Errorf("a fifth document at node A: %d, Retry-After %q; want the 429 error page with Retry-After\n%s", code, retry, body)
	}
	res, err := one.PostForm(p.b.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {doc(5)},
		"code": {"made-up"}, "redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {strings.Repeat("v", 43)}})
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || e.Error != "temporarily_unavailable" || res.Header.Get("Retry-After") == "" {
		t.Errorf("a sixth document at node B's token endpoint: %d %q, Retry-After %q; want 429 temporarily_unavailable with Retry-After",
			res.StatusCode, e.Error, res.Header.Get("Retry-After"))
	}
	if hits.Load() != 4 {
		t.Errorf("the document server got %d requests, want 4: refused documents are not fetched", hits.Load())
	}
	if code, _, body := authorize(other, p.b, doc(6)); code == http.StatusTooManyRequests {
		t.Errorf("another address: %d %s; want its document fetched", code, body)
	}
}
