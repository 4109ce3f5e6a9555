package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// TestAccountPagesNeedSession: without a session every account and admin
// page sends the browser to sign in, and every form post is refused the
// same way without changing anything.
func TestAccountPagesNeedSession(t *testing.T) {
	s := servertest.New(t)
	a := newAgent(t, s.URL)
	for _, path := range []string{"/account", "/account/password", "/account/sessions", "/admin/users", "/admin/users/new"} {
		wantRedirect(t, "GET "+path, a.get(path), "/signin?next="+url.QueryEscape(path))
	}
	for _, path := range []string{"/account/password", "/account/sessions/end-others", "/admin/users"} {
		wantRedirect(t, "POST "+path, a.post(path, url.Values{"x": {"1"}}), "/signin")
	}
	wantRedirect(t, "GET / without a session", a.get("/"), "/signin")
	// A forged or stale cookie is dropped and sent to sign in.
	b := newAgent(t, s.URL)
	u, _ := url.Parse(s.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tokend_session", Value: "tkss_" + strings.Repeat("x", 49)}})
	p := b.get("/account")
	wantRedirect(t, "forged cookie", p, "/signin?next=%2Faccount")
	if !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("a forged cookie is not removed: Set-Cookie %q", p.header.Get("Set-Cookie"))
	}
}

// TestPendingSession: an admin without a second factor (the default
// policy demands one) gets a session that reaches only the enrolment
// page; every other page sends them back there.
func TestPendingSession(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "root", alicePW, true)
	a := newAgent(t, s.URL)
	a.signIn("root", alicePW, "/signin/enrol")
	for _, path := range []string{"/", "/account", "/account/sessions", "/admin/users", "/signin"} {
		wantRedirect(t, "pending GET "+path, a.get(path), "/signin/enrol")
	}
	wantRedirect(t, "pending POST", a.post("/account/sessions/end-others", nil), "/signin/enrol")
	wantRedirect(t, "pending second-factor page", a.get("/signin/second-factor"), "/signin/enrol")
	wantPage(t, "enrol page", a.get("/signin/enrol"), 200, "Set up a second factor")
}

// TestChangePassword: the current password must be right; the new one
// must pass the policy; after the change the other sessions are ended
// and this one goes on.
func TestChangePassword(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "hana", alicePW, false)
	a, other := newAgent(t, s.URL), newAgent(t, s.URL)
	a.signIn("hana", alicePW, "/account")
	other.signIn("hana", alicePW, "/account")
	wantPage(t, "form", a.get("/account/password"), 200, `autocomplete="current-password"`, `autocomplete="new-password"`)
	const next = "velvet-summit-harbor-47"
	cases := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"wrong current", url.Values{"current": {"nope-nope-nope-1"}, "password": {next}, "confirm": {next}}, 401, "current password is not right"},
		{"differ", url.Values{"current": {alicePW}, "password": {next}, "confirm": {next + "!"}}, 400, "differ"},
		{"common", url.Values{"current": {alicePW}, "password": {"password1234"}, "confirm": {"password1234"}}, 400, "too common"},
		{"with username", url.Values{"current": {alicePW}, "password": {"hana-is-the-best-1"}, "confirm": {"hana-is-the-best-1"}}, 400, "username"},
	}
	for _, c := range cases {
		wantPage(t, c.name, a.post("/account/password", c.form), c.status, c.text)
	}
	wantPage(t, "other session before", other.get("/account"), 200)
	wantPage(t, "change", a.post("/account/password", url.Values{"current": {alicePW}, "password": {next}, "confirm": {next}}), 200,
		"Your password is changed")
	wantPage(t, "this session after", a.get("/account"), 200)
	wantRedirect(t, "other session after", other.get("/account"), "/signin?next=%2Faccount")
	if _, err := s.Users.CheckPassword(t.Context(), "hana", next); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	for _, secret := range []string{alicePW, next} {
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

var sessionForm = regexp.MustCompile(`action="/account/sessions/(ses_[A-Za-z0-9]+)/end"`)

// TestSessionsPage: a person sees their sessions, ends one (that browser
// is signed out), then all others; another person's session id ends
// nothing.
func TestSessionsPage(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "ivan", alicePW, false)
	newUser(t, s, "jane", alicePW, false)
	a, b, c, j := newAgent(t, s.URL), newAgent(t, s.URL), newAgent(t, s.URL), newAgent(t, s.URL)
	for _, x := range []*agent{a, b, c} {
		x.signIn("ivan", alicePW, "/account")
	}
	j.signIn("jane", alicePW, "/account")
	p := a.get("/account/sessions")
	wantPage(t, "sessions", p, 200, "this browser", "Firefox on Linux", "End all other sessions")
	if n := len(sessionForm.FindAllString(p.body, -1)); n != 3 {
		t.Fatalf("the page lists %d sessions, want 3", n)
	}
	bSession, _, err := s.Users.CheckSession(t.Context(), b.cookie())
	if err != nil {
		t.Fatal(err)
	}
	jSession, _, err := s.Users.CheckSession(t.Context(), j.cookie())
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, "end another person's session", a.post("/account/sessions/"+jSession.ID+"/end", nil), "/account/sessions?ended")
	wantPage(t, "jane after", j.get("/account"), 200)
	wantRedirect(t, "end b", a.post("/account/sessions/"+bSession.ID+"/end", nil), "/account/sessions?ended")
	wantRedirect(t, "b after", b.get("/account"), "/signin?next=%2Faccount")
	wantPage(t, "c before", c.get("/account"), 200)
	wantRedirect(t, "end others", a.post("/account/sessions/end-others", nil), "/account/sessions?ended-others")
	wantRedirect(t, "c after", c.get("/account"), "/signin?next=%2Faccount")
	p = a.get("/account/sessions?ended-others")
	wantPage(t, "sessions after", p, 200, "Every other session was ended")
	if n := len(sessionForm.FindAllString(p.body, -1)); n != 1 {
		t.Errorf("the page lists %d sessions, want 1", n)
	}
	aSession, _, _ := s.Users.CheckSession(t.Context(), a.cookie())
	wantRedirect(t, "end own", a.post("/account/sessions/"+aSession.ID+"/end", nil), "/signin?signed-out")
	wantRedirect(t, "a after", a.get("/account"), "/signin?next=%2Faccount")
}

// adminAgent signs in an admin on a server whose policy demands no
// second factor, so that the admin pages are reachable with a password.
func adminAgent(t *testing.T) (*servertest.Server, *agent) {
	t.Helper()
	s := servertest.Start(t, servertest.Options{MFA: user.MFAOff})
	newUser(t, s, "root", alicePW, true)
	a := newAgent(t, s.URL)
	a.signIn("root", alicePW, "/account")
	return s, a
}
