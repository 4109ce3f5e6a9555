package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// sessionHeader signs username in and returns the cookie header of the
// session.
func sessionHeader(t *testing.T, s *servertest.Server, username string) http.Header {
	t.Helper()
	in, err := s.Users.SignIn(t.Context(), username, alicePW, user.ClientMeta{IP: "192.0.2.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Cookie": {"tokend_session=" + in.Token}}
}

func getAs(t *testing.T, s *servertest.Server, h http.Header, path string) page {
	t.Helper()
	return do(t, http.MethodGet, s.URL+path, nil, h)
}

// TestMyTokensPages drives the pages over HTTP: the create form refuses
// what the policy does not allow and keeps what was typed; another
// person's token id is the not-found page and changes nothing; a revoke
// button posted from another site is refused.
func TestMyTokensPages(t *testing.T) {
	s := servertest.New(t)
	a := paymentsAPI(t, s)
	rosa := newUser(t, s, "rosa", alicePW, false)
	bob := newUser(t, s, "bob", alicePW, false)
	h := sessionHeader(t, s, "rosa")
	wantPage(t, "empty tokens page", getAs(t, s, h, "/account/tokens"), 200, "You have no personal access tokens", "Lost a laptop?")
	wantPage(t, "new token form", getAs(t, s, h, "/account/tokens/new?api_id="+a.ID), 200, "See your payments", `value="30"`)
	form := url.Values{"api_id": {a.ID}, "name": {"too much"}, "scope": {"write"}, "expiry": {"30"}}
	wantPage(t, "write refused", post(t, s.URL, "/account/tokens", form, h), 400, "Scopes:", "too much")
	form.Set("scope", "read")
	form.Set("expiry", "90")
	wantPage(t, "90 days refused", post(t, s.URL, "/account/tokens", form, h), 400, "Expires:")
	form.Set("expiry", "never")
	wantPage(t, "no expiry refused", post(t, s.URL, "/account/tokens", form, h), 400, "Expires:")
	if ts, _ := s.Keys.PATs(t.Context(), rosa.ID, "", 10); len(ts) != 0 {
		t.Fatalf("refused forms created %d tokens", len(ts))
	}
	form.Set("expiry", "7")
	created := post(t, s.URL, "/account/tokens", form, h)
	wantPage(t, "created", created, 201, "tkpt_", "never show it again")
	i := strings.Index(created.body, "tkpt_")
	secret := created.body[i : i+strings.IndexByte(created.body[i:], '<')]

	bobTok, bobSecret, err := s.Keys.CreatePAT(t.Context(), audit.System, bob.ID, api.CreateTokenRequest{APIID: a.ID, Name: "bob's",
		Scopes: []string{"read"}, TTL: ptr(api.Duration(24 * 60 * 60 * 1e9))})
	if err != nil {
		t.Fatal(err)
	}
	wantPage(t, "bob's token as rosa", getAs(t, s, h, "/account/tokens/"+bobTok.ID), 404)
	wantPage(t, "revoking bob's token as rosa", post(t, s.URL, "/account/tokens/"+bobTok.ID+"/revoke", nil, h), 404)
	if c := verifyCode(t, s, bobSecret, ""); c != api.CodeValid {
		t.Errorf("bob's token after rosa's attempts: %s", c)
	}
	ts, _ := s.Keys.PATs(t.Context(), rosa.ID, "", 10)
	if len(ts) != 1 {
		t.Fatalf("rosa has %d tokens", len(ts))
	}
	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}, "Cookie": h["Cookie"]}
	for _, path := range []string{"/account/tokens/" + ts[0].ID + "/revoke", "/account/tokens/revoke-all"} {
		if p := post(t, s.URL, path, nil, cross); p.status != http.StatusForbidden {
			t.Errorf("cross-site POST %s = %d, want 403", path, p.status)
		}
	}
	if c := verifyCode(t, s, secret, ""); c != api.CodeValid {
		t.Fatalf("rosa's token after cross-site posts: %s", c)
	}
	wantPage(t, "tokens page", getAs(t, s, h, "/account/tokens"), 200, "too much", "expires soon")
	if p := post(t, s.URL, "/account/tokens/revoke-all", nil, h); p.status != http.StatusSeeOther {
		t.Fatalf("revoke-all = %d\n%s", p.status, p.body)
	}
	if c := verifyCode(t, s, secret, ""); c != api.CodeRevoked {
		t.Errorf("rosa's token after revoke-all: %s", c)
	}
	wantPage(t, "after revoke-all", getAs(t, s, h, "/account/tokens?done=all"), 200, "Everything was revoked", "revoked")
}

func ptr[T any](v T) *T { return &v }
