package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/web"
)

// page is one answer of the Site, read whole.
type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, base, path string) page {
	t.Helper()
	return do(t, http.MethodGet, base+path, nil, nil)
}

// post sends form to base+path as a browser on base would (Origin and
// Sec-Fetch-Site same-origin), plus any header in extra.
func post(t *testing.T, base, path string, form url.Values, extra http.Header) page {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {base}, "Sec-Fetch-Site": {"same-origin"}}
	for k, v := range extra {
		h[k] = v
	}
	return do(t, http.MethodPost, base+path, strings.NewReader(form.Encode()), h)
}

func do(t *testing.T, method, u string, body io.Reader, h http.Header) page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

// newLink creates a user without a password and returns the token of
// their set-password link.
func newLink(t *testing.T, s *servertest.Server, username string) string {
	t.Helper()
	u, err := s.Client.CreateUser(t.Context(), api.CreateUserRequest{Username: username})
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordLink.Token
}

// TestSecurityHeaders: every answer of the pages, found or not, carries
// the CSP, nosniff, the Referrer-Policy and framing refusal; pages are
// never cached, and the API's own paths stay JSON problems.
func TestSecurityHeaders(t *testing.T) {
	s := servertest.New(t)
	for _, path := range []string{"/set-password", "/no-such-page", "/static/style.css", "/static/", "/static/nope.js"} {
		p := get(t, s.URL, path)
		want := map[string]string{"Content-Security-Policy": web.CSP, "X-Content-Type-Options": "nosniff",
			"Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
		for k, v := range want {
			if got := p.header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
			}
		}
		if strings.HasPrefix(p.header.Get("Content-Type"), "text/html") && p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store on a page", path, p.header.Get("Cache-Control"))
		}
	}
	if !strings.Contains(web.CSP, "frame-ancestors 'none'") || strings.Contains(web.CSP, "unsafe-inline") {
		t.Errorf("CSP %q must forbid framing and inline code", web.CSP)
	}
	cases := []struct {
		path, contentType string
		status            int
	}{
		{"/set-password", "text/html; charset=utf-8", 200},
		{"/no-such-page", "text/html; charset=utf-8", 404},
		{"/static/style.css", "text/css; charset=utf-8", 200},
		{"/static/", "text/html; charset=utf-8", 404},
		{"/v1/no-such-endpoint", "application/problem+json", 404},
		{"/oauth2/nope", "application/problem+json", 404},
		{"/.well-known/nope", "application/problem+json", 404},
	}
	for _, c := range cases {
		p := get(t, s.URL, c.path)
		if p.status != c.status || p.header.Get("Content-Type") != c.contentType {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, p.status, p.header.Get("Content-Type"), c.status, c.contentType)
		}
	}
	if p := do(t, http.MethodPut, s.URL+"/set-password", nil, nil); p.status != 405 || p.header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT /set-password = %d Allow %q, want 405 with Allow: GET, POST", p.status, p.header.Get("Allow"))
	}
}

// TestNoInlineCode: no page carries an inline script, a style attribute
// or a <style> element, which the CSP would block (and which would need
// unsafe-inline to work).
func TestNoInlineCode(t *testing.T) {
	s := servertest.New(t)
	for _, path := range []string{"/set-password", "/no-such-page"} {
		body := get(t, s.URL, path).body
		for _, bad := range []string{"<script>", "style=", "<style", "onclick=", "onload=", "javascript:"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s has %q", path, bad)
			}
		}
	}
}

// TestCrossOriginPostRefused: a form POST that a browser marks as coming
// from another origin is refused with a 403 page before the handler
// runs, and changes nothing: the set-password link still works after.
func TestCrossOriginPostRefused(t *testing.T) {
	s := servertest.New(t)
	token := newLink(t, s, "carol")
	form := url.Values{"token": {token}, "password": {"mossy-lantern-river-88"}, "confirm": {"mossy-lantern-river-88"}}
	for name, h := range map[string]http.Header{
		"cross-site fetch metadata": {"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		"same-site fetch metadata":  {"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://sub.example"}},
		"foreign origin only":       {"Sec-Fetch-Site": nil, "Origin": {"https://evil.example"}},
	} {
		p := post(t, s.URL, "/set-password", form, h)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "another site") {
			t.Errorf("%s: POST /set-password = %d, want 403 with the refusal page\n%s", name, p.status, p.body)
		}
	}
	if p := post(t, s.URL, "/set-password", form, nil); p.status != 200 || !strings.Contains(p.body, "Your password is set") {
		t.Fatalf("same-origin POST after the refusals = %d, want the link still usable\n%s", p.status, p.body)
	}
}

// TestSetPasswordPage drives the set-password page over HTTP: each bad
// input gets its message and leaves the link usable; the right one sets
// the password once; neither token nor password reaches the log.
func TestSetPasswordPage(t *testing.T) {
	s := servertest.New(t)
	token := newLink(t, s, "dave")
	const good = "quiet-harbour-kettle-31"
	cases := []struct {
		name     string
		form     url.Values
		status   int
		contains string
	}{
		{"no token", url.Values{"password": {good}, "confirm": {good}}, 400, "Paste the code"},
		{"passwords differ", url.Values{"token": {token}, "password": {good}, "confirm": {good + "x"}}, 400, "differ"},
		{"too short", url.Values{"token": {token}, "password": {"short"}, "confirm": {"short"}}, 400, "at least 12 characters"},
		{"common", url.Values{"token": {token}, "password": {"password1234"}, "confirm": {"password1234"}}, 400, "too common"},
		{"forged token", url.Values{"token": {"tksp_" + strings.Repeat("A", 49)}, "password": {good}, "confirm": {good}}, 400, "invalid, already used or expired"},
		{"junk token", url.Values{"token": {"<script>alert(1)</script>"}, "password": {good}, "confirm": {good}}, 400, "invalid, already used or expired"},
	}
	for _, c := range cases {
		p := post(t, s.URL, "/set-password", c.form, nil)
		if p.status != c.status || !strings.Contains(p.body, c.contains) {
			t.Errorf("%s: POST = %d, want %d with %q\n%s", c.name, p.status, c.status, c.contains, p.body)
		}
		if strings.Contains(p.body, "<script>alert") {
			t.Errorf("%s: the page echoes markup unescaped", c.name)
		}
	}
	form := url.Values{"token": {token}, "password": {good}, "confirm": {good}}
	if p := post(t, s.URL, "/set-password", form, nil); p.status != 200 || !strings.Contains(p.body, "Your password is set") {
		t.Fatalf("POST with a good password = %d\n%s", p.status, p.body)
	}
	if _, err := s.Users.CheckPassword(context.Background(), "dave", good); err != nil {
		t.Errorf("CheckPassword after the page set it: %v", err)
	}
	if p := post(t, s.URL, "/set-password", form, nil); p.status != 400 || !strings.Contains(p.body, "already used") {
		t.Errorf("reusing the link = %d, want 400\n%s", p.status, p.body)
	}
	for _, secret := range []string{token, good} {
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}

// TestFormLimits: oversized bodies and fields, and bodies that are not
// forms, are refused with a clear page and change nothing.
func TestFormLimits(t *testing.T) {
	s := servertest.New(t)
	token := newLink(t, s, "erin")
	const good = "amber-meadow-pylon-57"
	huge := strings.Repeat("x", 64<<10)
	long := strings.Repeat("y", 5000)
	sameOrigin := http.Header{"Origin": {s.URL}, "Sec-Fetch-Site": {"same-origin"}}
	cases := []struct {
		name   string
		page   func() page
		status int
		text   string
	}{
		{"body too large", func() page {
			return post(t, s.URL, "/set-password", url.Values{"token": {token}, "password": {good}, "confirm": {good}, "pad": {huge}}, nil)
		}, 413, "too large"},
		{"field too long", func() page {
			return post(t, s.URL, "/set-password", url.Values{"token": {token}, "password": {long}, "confirm": {long}}, nil)
		}, 400, "too long"},
		{"JSON body", func() page {
			h := sameOrigin.Clone()
			h.Set("Content-Type", "application/json")
			return do(t, http.MethodPost, s.URL+"/set-password", strings.NewReader(`{"token":"`+token+`","password":"`+good+`"}`), h)
		}, 415, "not sent as a web form"},
		{"malformed form", func() page {
			h := sameOrigin.Clone()
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			return do(t, http.MethodPost, s.URL+"/set-password", strings.NewReader("token=%zz&password=1"), h)
		}, 400, "could not be read"},
	}
	for _, c := range cases {
		p := c.page()
		if p.status != c.status || !strings.Contains(p.body, c.text) {
			t.Errorf("%s: %d, want %d with %q\n%s", c.name, p.status, c.status, c.text, p.body)
		}
	}
	form := url.Values{"token": {token}, "password": {good}, "confirm": {good}}
	if p := post(t, s.URL, "/set-password", form, nil); p.status != 200 {
		t.Errorf("the link after the refused forms = %d, want it unused and working\n%s", p.status, p.body)
	}
}
