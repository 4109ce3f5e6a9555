package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// agent is a browser-like HTTP client of the pages: it keeps cookies,
// does not follow redirects (tests read them), and sends forms as a page
// of the same origin would.
type agent struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newAgent(t *testing.T, base string) *agent {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &agent{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (a *agent) get(path string) page {
	a.t.Helper()
	return a.send(http.MethodGet, path, nil, nil)
}

func (a *agent) post(path string, form url.Values) page {
	a.t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {a.base}, "Sec-Fetch-Site": {"same-origin"},
		"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}}
	return a.send(http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

func (a *agent) send(method, path string, body io.Reader, h http.Header) page {
	a.t.Helper()
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

// cookie returns the value of the session cookie the agent holds.
func (a *agent) cookie() string {
	u, _ := url.Parse(a.base)
	for _, c := range a.c.Jar.Cookies(u) {
		if c.Name == "tokend_session" {
			return c.Value
		}
	}
	return ""
}

// signIn signs the agent in and fails unless it lands on want.
func (a *agent) signIn(username, password, want string) {
	a.t.Helper()
	p := a.post("/signin", url.Values{"username": {username}, "password": {password}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != want {
		a.t.Fatalf("sign in as %s = %d to %q, want 303 to %q\n%s", username, p.status, p.header.Get("Location"), want, p.body)
	}
}

// newUser creates a local user with a password through the API.
func newUser(t *testing.T, s *servertest.Server, username, password string, admin bool) api.User {
	t.Helper()
	u, err := s.Client.CreateUser(t.Context(), api.CreateUserRequest{Username: username, Password: password, Admin: admin,
		DisplayName: strings.ToUpper(username[:1]) + username[1:] + " Example", Email: username + "@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return u.User
}

// wantPage fails unless p has the status and holds every text.
func wantPage(t *testing.T, what string, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("%s = %d, want %d\n%s", what, p.status, status, p.body)
		return
	}
	for _, text := range texts {
		if !strings.Contains(p.body, text) {
			t.Errorf("%s: page lacks %q\n%s", what, text, p.body)
		}
	}
}

// wantRedirect fails unless p redirects (303) to location.
func wantRedirect(t *testing.T, what string, p page, location string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != location {
		t.Errorf("%s = %d to %q, want 303 to %q", what, p.status, p.header.Get("Location"), location)
	}
}
