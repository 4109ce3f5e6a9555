package oauth_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/servertest"
)

// fetchAnswer is what a client got from a request that names a metadata
// document.
type fetchAnswer struct {
	status     int
	retryAfter string
	body       string
}

// authorizeDoc asks node e's browser authorization endpoint about the
// document client id, as a browser would (redirects not followed).
func authorizeDoc(t *testing.T, e *env, id string) fetchAnswer {
	t.Helper()
	q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"},
		"scope": {"openid"}, "state": {"st"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return answerOf(c.Get(e.URL + "/oauth2/authorize?" + q.Encode()))
}

// tokenDoc posts a code exchange of the document client id to node e's
// token endpoint (the code is made up: only the client matters here).
func tokenDoc(t *testing.T, e *env, id string) fetchAnswer {
	t.Helper()
	return answerOf(http.PostForm(e.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {id}, "code": {"made-up"}, "redirect_uri": {"http://127.0.0.1/callback"}, "code_verifier": {strings.Repeat("v", 43)}}))
}

// answerOf reads res; a request that failed is status -1.
func answerOf(res *http.Response, err error) fetchAnswer {
	if err != nil {
		return fetchAnswer{status: -1, body: err.Error()}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fetchAnswer{res.StatusCode, res.Header.Get("Retry-After"), string(b)}
}

// limited reports whether a is the refusal of the fetch limit: 429 with
// a Retry-After of at most a minute, as an RFC 6749 temporarily_unavailable
// JSON error (json) or the error page of the authorization endpoint.
func (a fetchAnswer) limited(json bool) bool {
	secs, err := strconv.Atoi(a.retryAfter)
	if a.status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > 60 {
		return false
	}
	if json {
		return strings.Contains(a.body, `"error":"temporarily_unavailable"`)
	}
	return strings.Contains(a.body, "too many client ID metadata documents fetched for this address")
}

// docs publishes n documents of public clients on d and returns their
// URLs.
func publishDocs(d *docServer, n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, d.set(fmt.Sprintf("/clients/%d.json", i), map[string]any{"client_name": "app",
			"redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "none"}))
	}
	return ids
}

// TestDocumentFetchLimitSharedThroughRedis: two nodes with the same Redis
// limit together the metadata documents one client address makes them
// fetch (3 a minute here): after three fetches spread over both, a
// fourth document is refused by either node, at the browser
// authorization endpoint (its error page, 429 with Retry-After) and at
// the token endpoint (429 temporarily_unavailable JSON), without being
// fetched; a document still cached costs nothing; the limit admits one
// more once a third of a minute has passed. Nodes without Redis limit
// each on its own.
func TestDocumentFetchLimitSharedThroughRedis(t *testing.T) {
	redisURL := os.Getenv("TOKEND_TEST_REDIS")
	if redisURL == "" {
		t.Skip("TOKEND_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: redisURL, CallerClock: true,
		Prefix: "tokend:test:" + strings.ToLower(rand.Text()[:10]) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			d := newDocServer(t)
			ids := publishDocs(d, 8)
			o := servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true}), DocumentFetchLimit: 3}
			if shared {
				o.DocumentLimiter = r
			}
			a, b := startEnv(t, o), startEnv(t, o)
			for i, n := range []*env{a, b, a} {
				if got := authorizeDoc(t, n, ids[i]); got.status == http.StatusTooManyRequests {
					t.Fatalf("fetch %d: %+v; want it admitted", i+1, got)
				}
			}
			if d.hits.Load() != 3 {
				t.Fatalf("the document server got %d requests, want 3", d.hits.Load())
			}
			got := authorizeDoc(t, b, ids[3])
			if got.limited(false) != shared {
				t.Errorf("a fourth document at the other node: %+v; limited = %v, want %v", got, got.limited(false), shared)
			}
			if !shared {
				return
			}
			if got := tokenDoc(t, a, ids[4]); !got.limited(true) {
				t.Errorf("token endpoint, a fifth document: %+v; want 429 temporarily_unavailable with Retry-After", got)
			}
			if d.hits.Load() != 3 {
				t.Errorf("the document server got %d requests, want 3: a refused document is not fetched", d.hits.Load())
			}
			if got := authorizeDoc(t, a, ids[0]); got.status == http.StatusTooManyRequests {
				t.Errorf("a document node A still caches: %+v; want it served without a fetch", got)
			}
			a.Clock.Advance(20 * time.Second) // 3 a minute: one more every 20 s
			b.Clock.Advance(20 * time.Second)
			if got := authorizeDoc(t, b, ids[5]); got.status == http.StatusTooManyRequests {
				t.Errorf("20 s later: %+v; want one more fetch admitted", got)
			}
			if got := authorizeDoc(t, a, ids[6]); !got.limited(false) {
				t.Errorf("and the next at the other node: %+v; want it limited again", got)
			}
		})
	}
}

// TestDocumentFetchLimitInProcess: without a shared limiter one node
// limits the documents an address makes it fetch (default 30 a minute),
// and the device authorization endpoint answers the refusal as JSON
// too; with the limit off (negative), it does not limit.
func TestDocumentFetchLimitInProcess(t *testing.T) {
	d := newDocServer(t)
	d.cc = "no-store"
	ids := publishDocs(d, 1)
	e := startEnv(t, servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true})})
	for i := range 30 { // one document, never cached: every use is a fetch
		if got := authorizeDoc(t, e, ids[0]); got.status == http.StatusTooManyRequests {
			t.Fatalf("fetch %d: %+v; want the first 30 admitted", i+1, got)
		}
	}
	if got := authorizeDoc(t, e, ids[0]); !got.limited(false) {
		t.Fatalf("fetch 31: %+v; want the error page, 429 with Retry-After", got)
	}
	got := answerOf(http.PostForm(e.URL+"/oauth2/device_authorization", url.Values{"client_id": {ids[0]}, "scope": {"openid"}}))
	if !got.limited(true) {
		t.Errorf("device authorization: %+v; want 429 temporarily_unavailable with Retry-After", got)
	}
	if d.hits.Load() != 30 {
		t.Errorf("the document server got %d requests, want 30", d.hits.Load())
	}
	off := startEnv(t, servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true}), DocumentFetchLimit: -1})
	for i := range 40 {
		if got := authorizeDoc(t, off, ids[0]); got.status == http.StatusTooManyRequests {
			t.Fatalf("no limit, fetch %d: %+v", i+1, got)
		}
	}
}

// TestDocumentFetchLimitUndecided: a shared limiter that cannot decide
// (Redis down, --redis-failure=refuse) refuses the fetch with 503
// temporarily_unavailable, rather than fetching unlimited.
func TestDocumentFetchLimitUndecided(t *testing.T) {
	down, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: "redis://127.0.0.1:1/0?dial_timeout=100ms"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { down.Close() })
	d := newDocServer(t)
	ids := publishDocs(d, 1)
	e := startEnv(t, servertest.Options{Documents: fetch.New(fetch.Config{InsecureAllowPrivate: true}),
		DocumentLimiter: ratelimit.NewFailover(ratelimit.FailoverConfig{Shared: down, Refuse: true})})
	got := tokenDoc(t, e, ids[0])
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body, `"error":"temporarily_unavailable"`) || got.retryAfter == "" {
		t.Errorf("token endpoint with the limiter down: %+v; want 503 temporarily_unavailable with Retry-After", got)
	}
	if d.hits.Load() != 0 {
		t.Errorf("the document server got %d requests, want none", d.hits.Load())
	}
}
