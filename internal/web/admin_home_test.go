package web_test

import "testing"

// TestAdminConsoleAddress: /admin/, the address README and
// docs/operations.md give for the admin console, leads an admin to its
// first page and anyone else to the sign-in page; it was a 404.
func TestAdminConsoleAddress(t *testing.T) {
	s, a := adminAgent(t)
	wantRedirect(t, "GET /admin/ as an admin", a.get("/admin/"), "/admin/users")
	wantRedirect(t, "GET /admin as an admin", a.get("/admin"), "/admin/users")
	wantRedirect(t, "GET /admin/ signed out", newAgent(t, s.URL).get("/admin/"), "/signin?next=%2Fadmin%2F")
	newUser(t, s, "pat", alicePW, false)
	p := newAgent(t, s.URL)
	p.signIn("pat", alicePW, "/account")
	if got := p.get("/admin/"); got.status != 403 {
		t.Errorf("GET /admin/ as a non-admin = %d, want 403", got.status)
	}
}
