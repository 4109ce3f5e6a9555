package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/servertest"
)

var linkRE = regexp.MustCompile(`(http://[^<"]+)/set-password#(tksp_[A-Za-z0-9]+)`)

// TestAdminCreateUser: an admin creates a user with a set-password link,
// which the page shows once with the token in the fragment, and one with
// an initial password; a taken username and a bad password are refused
// with their reasons.
func TestAdminCreateUser(t *testing.T) {
	s, a := adminAgent(t)
	wantPage(t, "new user form", a.get("/admin/users/new"), 200, `name="username"`, `value="link"`)
	p := a.post("/admin/users", url.Values{"username": {"kim"}, "display_name": {"Kim Example"}, "email": {"kim@example.com"},
		"groups": {"ops, dev"}, "initial": {"link"}})
	wantPage(t, "create with link", p, 201, "The user was created", "Kim Example", "ops")
	m := linkRE.FindStringSubmatch(p.body)
	if m == nil || m[1] != s.URL {
		t.Fatalf("the page shows no set-password link on %s:\n%s", s.URL, p.body)
	}
	const pw = "saffron-island-ledger-29"
	form := url.Values{"token": {m[2]}, "password": {pw}, "confirm": {pw}}
	wantPage(t, "set password with the link", a.post("/set-password", form), 200, "Your password is set")
	newAgent(t, s.URL).signIn("kim", pw, "/account")

	p = a.post("/admin/users", url.Values{"username": {"lee"}, "initial": {"password"}, "password": {pw}, "admin": {"yes"}})
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), "/admin/users/usr_") {
		t.Fatalf("create with password = %d to %q", p.status, p.header.Get("Location"))
	}
	wantPage(t, "created user page", a.get(p.header.Get("Location")), 200, "The user was created", "Administrator")

	cases := []struct {
		name string
		form url.Values
		code int
		text string
	}{
		{"taken", url.Values{"username": {"kim"}, "initial": {"link"}}, 409, "already taken"},
		{"no username", url.Values{"username": {""}, "initial": {"link"}}, 400, "Username"},
		{"weak password", url.Values{"username": {"mo"}, "initial": {"password"}, "password": {"short"}}, 400, "at least 12"},
		{"no password", url.Values{"username": {"mo"}, "initial": {"password"}}, 400, "required"},
		{"markup", url.Values{"username": {"<b>x</b>"}, "display_name": {"<script>alert(1)</script>"}, "initial": {"link"}}, 0, ""},
	}
	for _, c := range cases {
		p := a.post("/admin/users", c.form)
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<b>x</b>") {
			t.Errorf("%s: the page echoes markup", c.name)
		}
		if c.code != 0 {
			wantPage(t, c.name, p, c.code, c.text)
		}
	}
	if strings.Contains(s.Logs.String(), m[2]) || strings.Contains(s.Logs.String(), pw) {
		t.Error("the log holds the link's token or a password")
	}
}

// TestAdminManageUser: list and search, groups, disable (which signs the
// user out), enable, a new set-password link, delete with confirmation.
func TestAdminManageUser(t *testing.T) {
	s, a := adminAgent(t)
	for _, name := range []string{"nina", "nora", "otto"} {
		newUser(t, s, name, alicePW, false)
	}
	wantPage(t, "list", a.get("/admin/users"), 200, "nina", "nora", "otto", "root")
	p := a.get("/admin/users?q=n")
	wantPage(t, "search", p, 200, "nina", "nora")
	if strings.Contains(p.body, "otto") {
		t.Error("the search for n lists otto")
	}
	nina := mustUserID(t, s, "nina")
	page := "/admin/users/" + nina
	wantPage(t, "show", a.get(page), 200, "nina@example.com", "Enabled")

	wantRedirect(t, "groups", a.post(page+"/groups", url.Values{"groups": {"ops,  dev , ops"}}), page+"?notice=groups")
	if u, _ := s.Users.Get(t.Context(), nina); strings.Join(u.Groups, ",") != "dev,ops" && strings.Join(u.Groups, ",") != "ops,dev" {
		t.Errorf("groups = %v, want ops and dev", u.Groups)
	}
	wantPage(t, "bad group", a.post(page+"/groups", url.Values{"groups": {"bad\x01group"}}), 400, "Groups")

	victim := newAgent(t, s.URL)
	victim.signIn("nina", alicePW, "/account")
	wantRedirect(t, "disable", a.post(page+"/disable", nil), page+"?notice=disabled")
	wantRedirect(t, "nina after disable", victim.get("/account"), "/signin?next=%2Faccount")
	wantPage(t, "disabled page", a.get(page+"?notice=disabled"), 200, "Disabled", "signed out everywhere")
	wantRedirect(t, "enable", a.post(page+"/enable", nil), page+"?notice=enabled")
	victim.signIn("nina", alicePW, "/account")

	p = a.post(page+"/password-link", nil)
	wantPage(t, "new link", p, 200, "/set-password#tksp_")
	wantRedirect(t, "end sessions", a.post(page+"/end-sessions", nil), page+"?notice=signout")
	wantRedirect(t, "nina after end-sessions", victim.get("/account"), "/signin?next=%2Faccount")

	wantPage(t, "delete unconfirmed", a.post(page+"/delete", nil), 400, "Tick the box")
	wantRedirect(t, "delete", a.post(page+"/delete", url.Values{"confirm": {"yes"}}), "/admin/users?notice=deleted")
	wantPage(t, "deleted", a.get(page), 404, "no such item")

	root := mustUserID(t, s, "root")
	wantPage(t, "disable self", a.post("/admin/users/"+root+"/disable", nil), 409, "your own account")
	wantPage(t, "unknown user", a.get("/admin/users/usr_nope"), 404)
}

// TestAdminPaging: the list pages through many users.
func TestAdminPaging(t *testing.T) {
	s, a := adminAgent(t)
	for i := range 30 {
		newUser(t, s, "user"+string(rune('a'+i/10))+string(rune('a'+i%10)), alicePW, false)
	}
	p := a.get("/admin/users")
	next := regexp.MustCompile(`href="(/admin/users\?after=[^"]+)">Next page`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatalf("no next page link:\n%s", p.body)
	}
	p2 := a.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	wantPage(t, "page 2", p2, 200, "First page")
	rows := func(b string) int { return strings.Count(b, `data-label="Username"`) }
	if rows(p.body)+rows(p2.body) != 31 {
		t.Errorf("pages list %d + %d users, want 31", rows(p.body), rows(p2.body))
	}
}

// TestAdminOnly: a signed-in person without the admin role gets 403 on
// every admin page and changes nothing.
func TestAdminOnly(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "pete", alicePW, false)
	other := newUser(t, s, "quin", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("pete", alicePW, "/account")
	wantPage(t, "list", a.get("/admin/users"), 403, "for administrators")
	wantPage(t, "disable", a.post("/admin/users/"+other.ID+"/disable", nil), 403)
	wantPage(t, "create", a.post("/admin/users", url.Values{"username": {"x"}, "initial": {"link"}}), 403)
	if u, _ := s.Users.Get(t.Context(), other.ID); !u.Enabled {
		t.Error("a non-admin disabled a user")
	}
}
