package web_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/ldap"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/web"
)

const alicePW = "copper-kettle-orchard-52"

// TestSignIn: the right password starts a session with the cookie of
// PEOPLE.md and lands on the account page; a wrong password and an
// unknown user get the same answer; a disabled account is told so.
func TestSignIn(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "alice", alicePW, false)
	a := newAgent(t, s.URL)
	wantPage(t, "GET /signin", a.get("/signin"), 200, `autocomplete="username webauthn"`, `autocomplete="current-password"`)

	wrong := a.post("/signin", url.Values{"username": {"alice"}, "password": {"not-her-password-1"}})
	unknown := a.post("/signin", url.Values{"username": {"nobody"}, "password": {"not-her-password-1"}})
	wantPage(t, "wrong password", wrong, 401, "The username or password is not right")
	if strip(wrong.body, "alice") != strip(unknown.body, "nobody") || wrong.status != unknown.status {
		t.Errorf("a wrong password and an unknown user read differently:\n%s\n---\n%s", wrong.body, unknown.body)
	}
	if strings.Contains(wrong.body, "not-her-password-1") {
		t.Error("the page repeats the password")
	}

	p := a.post("/signin", url.Values{"username": {"alice"}, "password": {alicePW}})
	wantRedirect(t, "sign in", p, "/account")
	c := p.header.Get("Set-Cookie")
	for _, want := range []string{"tokend_session=tkss_", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Errorf("Set-Cookie %q lacks %q", c, want)
		}
	}
	if strings.Contains(c, "Secure") || strings.Contains(c, "Domain") {
		t.Errorf("Set-Cookie %q: on plain http the cookie is neither Secure nor for a domain", c)
	}
	wantPage(t, "GET /account", a.get("/account"), 200, "alice@example.com", "Alice Example")
	wantRedirect(t, "GET / signed in", a.get("/"), "/account")
	wantRedirect(t, "GET /signin signed in", a.get("/signin"), "/account")

	if _, err := s.Client.DisableUser(t.Context(), mustUserID(t, s, "alice")); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "GET /account after disable", a.get("/account"), "/signin?next=%2Faccount")
	wantPage(t, "sign in disabled", a.post("/signin", url.Values{"username": {"alice"}, "password": {alicePW}}), 403, "disabled")
	for _, secret := range []string{alicePW, a.cookie()} {
		if secret != "" && strings.Contains(s.Logs.String(), secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
}

func strip(s, name string) string { return strings.ReplaceAll(s, name, "") }

func mustUserID(t *testing.T, s *servertest.Server, username string) string {
	t.Helper()
	l, err := s.Users.List(t.Context(), user.ListFilter{UsernamePrefix: username, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range l.Users {
		if u.Username == username {
			return u.ID
		}
	}
	t.Fatalf("no user %s", username)
	return ""
}

// TestSignInNext: the sign-in page goes back to the page that sent the
// browser there, and never to another site.
func TestSignInNext(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "bob", alicePW, false)
	a := newAgent(t, s.URL)
	wantRedirect(t, "GET /account/sessions", a.get("/account/sessions"), "/signin?next=%2Faccount%2Fsessions")
	wantPage(t, "sign-in form", a.get("/signin?next=%2Faccount%2Fsessions"), 200, `name="next" value="/account/sessions"`)
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		c := newAgent(t, s.URL)
		p := c.post("/signin", url.Values{"username": {"bob"}, "password": {alicePW}, "next": {next}})
		wantRedirect(t, "next="+next, p, "/account")
	}
	b := newAgent(t, s.URL)
	p := b.post("/signin", url.Values{"username": {"bob"}, "password": {alicePW}, "next": {"/account/sessions"}})
	wantRedirect(t, "next=/account/sessions", p, "/account/sessions")
}

// TestSignInThrottled: after repeated failures the page says to wait,
// with Retry-After, before any password is checked: the right password
// is refused too, and the message is the same for an unknown user.
func TestSignInThrottled(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "carol", alicePW, false)
	a := newAgent(t, s.URL)
	var last page
	for range 8 {
		last = a.post("/signin", url.Values{"username": {"carol"}, "password": {"wrong-password-000"}})
	}
	wantPage(t, "after 8 failures", last, 429, "Too many failed sign-ins", "wait")
	if last.header.Get("Retry-After") == "" {
		t.Error("a throttled sign-in has no Retry-After")
	}
	wantPage(t, "right password while throttled", a.post("/signin", url.Values{"username": {"carol"}, "password": {alicePW}}), 429, "Too many failed sign-ins")
	var ghost page
	for range 8 {
		ghost = a.post("/signin", url.Values{"username": {"ghost"}, "password": {"wrong-password-000"}})
	}
	wantPage(t, "unknown user after 8 failures", ghost, 429, "Too many failed sign-ins")
}

// TestSignInDirectoryDown: with the directory unreachable a person from
// it gets a clear message, and local users sign in as before.
func TestSignInDirectoryDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: the directory is down
	dir, err := ldap.New(ldap.Config{URL: "ldap://" + addr, InsecureNoStartTLS: true, UserBase: "ou=people,dc=example,dc=org"})
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, servertest.Options{Directory: dir})
	newUser(t, s, "dora", alicePW, false)
	a := newAgent(t, s.URL)
	wantPage(t, "directory user", a.post("/signin", url.Values{"username": {"erik"}, "password": {alicePW}}), 503,
		"directory (LDAP) cannot be reached")
	a.signIn("dora", alicePW, "/account")
}

// TestSignOut ends the session on the server, not only in the browser.
func TestSignOut(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "fay", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("fay", alicePW, "/account")
	token := a.cookie()
	p := a.post("/signout", nil)
	wantRedirect(t, "sign out", p, "/signin?signed-out")
	if !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out Set-Cookie = %q, want the cookie removed", p.header.Get("Set-Cookie"))
	}
	wantPage(t, "signed-out page", a.get("/signin?signed-out"), 200, "You are signed out")
	if _, _, err := s.Users.CheckSession(context.Background(), token); err == nil {
		t.Error("the session still works after sign-out")
	}
}

// TestSecureCookie: over HTTPS the cookie is Secure and __Host- named.
func TestSecureCookie(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "gus", alicePW, false)
	site, err := web.New(web.Config{Users: s.Users, Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://tokend.example/signin",
		strings.NewReader(url.Values{"username": {"gus"}, "password": {alicePW}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	site.ServeHTTP(rec, req)
	c := rec.Header().Get("Set-Cookie")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(c, "__Host-tokend_session=tkss_") || !strings.Contains(c, "; Secure") {
		t.Errorf("HTTPS sign-in = %d, Set-Cookie %q, want a Secure __Host- cookie", rec.Code, c)
	}
}
