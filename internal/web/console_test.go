package web_test

import (
	"database/sql"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

var shownSecretRE = regexp.MustCompile(`<code class="secret" id="secret">([^<]+)</code>`)

// shownSecret is the secret a page shows once.
func shownSecret(t *testing.T, p page) string {
	t.Helper()
	m := shownSecretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page shows no secret:\n%s", p.body)
	}
	return m[1]
}

// newAPIOnPage creates an API through the console and returns its id.
func newAPIOnPage(t *testing.T, a *agent, name, audience, prefix string, extra url.Values) string {
	t.Helper()
	form := url.Values{"name": {name}, "audience": {audience}, "key_prefix": {prefix}, "scopes": {"read write"}}
	for k, v := range extra {
		form[k] = v
	}
	p := a.post("/admin/apis", form)
	if p.status != 303 || !strings.HasPrefix(p.header.Get("Location"), "/admin/apis/api_") {
		t.Fatalf("create API = %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(p.header.Get("Location"), "/admin/apis/"), "?")
	return id
}

// TestConsoleAPIs: create an API with scope descriptions and the group
// policy of personal access tokens, see it in the list and search, edit
// it, have bad input refused on the form with the field named and
// marked, and delete it only with the box ticked.
func TestConsoleAPIs(t *testing.T) {
	s, a := adminAgent(t)
	id := newAPIOnPage(t, a, "Billing", "https://billing.example", "bill", url.Values{
		"scope_descriptions": {"read: See invoices\nwrite: Change invoices"},
		"user_scopes":        {"finance: read write\n*: read"}, "pat_max_ttl": {"90d"}})
	got, err := s.Keys.API(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Policy.ScopeDescriptions["read"] != "See invoices" || len(got.Policy.UserScopes) != 2 ||
		!got.Policy.UserScopes[1].Everyone || got.Policy.PATMaxTTL != 90*24*time.Hour {
		t.Errorf("policy = %+v", got.Policy)
	}
	wantPage(t, "API page", a.get("/admin/apis/"+id+"?notice=created"), 200, "The API was created", "read: See invoices",
		"finance: read write", "*: read", `value="90d"`)
	wantPage(t, "list", a.get("/admin/apis"), 200, "Billing", "https://billing.example")
	if p := a.get("/admin/apis?q=nothing-like-it"); strings.Contains(p.body, "Billing") {
		t.Error("the search for nothing-like-it lists Billing")
	}

	form := url.Values{"name": {"Billing v2"}, "scopes": {"read write admin"}, "user_scopes": {"finance: read"},
		"scope_descriptions": {"admin: Everything"}}
	wantRedirect(t, "edit", a.post("/admin/apis/"+id, form), "/admin/apis/"+id+"?notice=saved")
	if got, _ := s.Keys.API(t.Context(), id); got.Name != "Billing v2" || len(got.Scopes) != 3 || got.Policy.PATMaxTTL != 0 {
		t.Errorf("after edit: %+v", got)
	}

	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		text  string
	}{
		{"bad lifetime", url.Values{"name": {"X"}, "scopes": {"read"}, "pat_max_ttl": {"soon"}}, "pat_max_ttl", "Longest lifetime: must be a duration"},
		{"rule without colon", url.Values{"name": {"X"}, "scopes": {"read"}, "user_scopes": {"finance read"}}, "user_scopes", "Who may hold which scopes"},
		{"unknown scope in a rule", url.Values{"name": {"X"}, "scopes": {"read"}, "user_scopes": {"finance: write"}}, "user_scopes", "Who may hold which scopes"},
		{"description of no scope", url.Values{"name": {"X"}, "scopes": {"read"}, "scope_descriptions": {"fly: Fly"}}, "scope_descriptions", "Scope descriptions"},
		{"no name", url.Values{"name": {""}, "scopes": {"read"}}, "name", "Name:"},
	} {
		p := a.post("/admin/apis/"+id, c.form)
		wantPage(t, c.name, p, 400, c.text, `id="`+c.field+`" name="`+c.field+`"`)
		if !regexp.MustCompile(`name="` + c.field + `"[^>]*aria-invalid="true"`).MatchString(p.body) {
			t.Errorf("%s: the field %s is not marked invalid", c.name, c.field)
		}
	}
	if got, _ := s.Keys.API(t.Context(), id); got.Name != "Billing v2" {
		t.Errorf("a refused edit changed the API: %+v", got)
	}
	wantPage(t, "taken audience", a.post("/admin/apis", url.Values{"name": {"Again"}, "audience": {"https://billing.example"},
		"key_prefix": {"again"}, "scopes": {"read"}}), 409, "already taken", `value="Again"`)
	wantPage(t, "system API", a.get("/admin/apis/api_tokend"), 200, "cannot be changed here")
	wantPage(t, "delete unconfirmed", a.post("/admin/apis/"+id+"/delete", nil), 400, "tick the box")
	wantRedirect(t, "delete", a.post("/admin/apis/"+id+"/delete", url.Values{"confirm": {"yes"}}), "/admin/apis?notice=deleted")
	wantPage(t, "deleted", a.get("/admin/apis/"+id), 404)
}

// TestConsoleKeys: create a key on the page (its secret shown once, in
// no URL and no log), verify it, filter the list, rotate it, revoke it
// and see verification refuse it.
func TestConsoleKeys(t *testing.T) {
	s, a := adminAgent(t)
	apiID := newAPIOnPage(t, a, "Orders", "https://orders.example", "ord", nil)
	wantPage(t, "new key form", a.get("/admin/keys/new?api="+apiID), 200, `value="`+apiID+`" selected`)
	p := a.post("/admin/keys", url.Values{"api_id": {apiID}, "subject": {"svc-shipping"}, "name": {"Shipping"},
		"scopes": {"read"}, "ttl": {"30d"}})
	wantPage(t, "created", p, 201, "API key")
	secret := shownSecret(t, p)
	if !strings.HasPrefix(secret, "ord_") {
		t.Fatalf("secret = %q", secret)
	}
	verify := func() api.Code {
		t.Helper()
		r, err := s.Client.Verify(t.Context(), api.VerifyRequest{Token: secret, Audience: "https://orders.example"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	if c := verify(); c != api.CodeValid {
		t.Fatalf("verify = %s", c)
	}
	list, err := s.Keys.Keys(t.Context(), store.KeyFilter{APIID: apiID, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("keys = %v, %v", list, err)
	}
	id := list[0].ID
	wantPage(t, "list by API", a.get("/admin/keys?api="+apiID), 200, "Shipping", "svc-shipping", "active")
	if p := a.get("/admin/keys?api=" + apiID + "&state=revoked"); strings.Contains(p.body, "Shipping") {
		t.Error("the revoked filter lists an active key")
	}
	wantPage(t, "bad ttl", a.post("/admin/keys", url.Values{"api_id": {apiID}, "subject": {"x"}, "ttl": {"forever"}}), 400,
		"Expires: must be a duration", `value="x"`)
	wantPage(t, "scope of no API", a.post("/admin/keys", url.Values{"api_id": {apiID}, "subject": {"x"}, "scopes": {"fly"}}), 400, "Scopes")

	p = a.post("/admin/keys/"+id+"/rotate", url.Values{"grace": {"1h"}})
	wantPage(t, "rotate", p, 200, "new secret")
	secret2 := shownSecret(t, p)
	if secret2 == secret || !strings.HasPrefix(secret2, "ord_") {
		t.Fatalf("rotated secret = %q", secret2)
	}
	wantRedirect(t, "revoke", a.post("/admin/keys/"+id+"/revoke", nil), "/admin/keys/"+id+"?notice=revoked")
	wantPage(t, "revoked page", a.get("/admin/keys/"+id+"?notice=revoked"), 200, "revoked", "stops working")
	if c := verify(); c != api.CodeRevoked {
		t.Errorf("verify after revoke = %s, want %s", c, api.CodeRevoked)
	}
	wantPage(t, "rotate revoked", a.post("/admin/keys/"+id+"/rotate", nil), 409, "revoked")
	for _, sec := range []string{secret, secret2} {
		if strings.Contains(s.Logs.String(), sec) {
			t.Error("the log holds a key's secret")
		}
	}
}

// TestConsoleClients: create a client (secret shown once), edit its
// redirect URIs and first-party flag, rotate the secret, delete it.
func TestConsoleClients(t *testing.T) {
	s, a := adminAgent(t)
	apiID := newAPIOnPage(t, a, "Docs", "https://docs.example", "docs", nil)
	p := a.post("/admin/clients", url.Values{"name": {"Docs CLI"}, "grant_types": {"client_credentials"},
		"api_scopes": {apiID + ": read"}, "token_endpoint_auth_method": {"client_secret_basic"}, "access_token_format": {"jwt"}})
	wantPage(t, "created", p, 201, "client secret")
	secret := shownSecret(t, p)
	cs, err := s.OAuth.Clients(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, c := range cs {
		if c.Name == "Docs CLI" {
			id = c.ID
		}
	}
	if id == "" {
		t.Fatalf("no client Docs CLI among %v", cs)
	}
	wantPage(t, "list", a.get("/admin/clients"), 200, "Docs CLI", id)
	form := url.Values{"name": {"Docs app"}, "grant_types": {"authorization_code", "refresh_token"}, "api_scopes": {apiID + ": read admin"},
		"redirect_uris": {"https://docs.example/callback\nhttps://docs.example/cb2"}, "first_party": {"yes"}, "access_token_format": {"opaque"}}
	wantPage(t, "scope the API lacks", a.post("/admin/clients/"+id, form), 400, "API scopes")
	form.Set("api_scopes", apiID+": read")
	wantRedirect(t, "edit", a.post("/admin/clients/"+id, form), "/admin/clients/"+id+"?notice=saved")
	c, err := s.OAuth.Client(t.Context(), id)
	if err != nil || c.Name != "Docs app" || len(c.RedirectURIs) != 2 || !c.FirstParty {
		t.Fatalf("after edit: %+v, %v", c, err)
	}
	wantPage(t, "client page", a.get("/admin/clients/"+id), 200, "https://docs.example/cb2", `value="authorization_code" checked`)
	p = a.post("/admin/clients/"+id+"/rotate", nil)
	if shownSecret(t, p) == secret {
		t.Error("rotation kept the secret")
	}
	wantPage(t, "delete unconfirmed", a.post("/admin/clients/"+id+"/delete", nil), 400, "tick the box")
	wantRedirect(t, "delete", a.post("/admin/clients/"+id+"/delete", url.Values{"confirm": {"yes"}}), "/admin/clients?notice=deleted")
	wantPage(t, "deleted", a.get("/admin/clients/"+id), 404)
}

// TestConsoleSigningAndAudit: the signing keys with their states and a
// rotation; the audit log names the admin's changes and filters them.
func TestConsoleSigningAndAudit(t *testing.T) {
	s, a := adminAgent(t)
	wantPage(t, "signing keys", a.get("/admin/signing-keys"), 200, "active", "RS256")
	wantRedirect(t, "rotate", a.post("/admin/signing-keys/rotate", nil), "/admin/signing-keys?notice=rotated")
	wantPage(t, "after rotate", a.get("/admin/signing-keys?notice=rotated"), 200, "pending")
	newAPIOnPage(t, a, "Audited", "https://audited.example", "aud", nil)
	root := mustUserID(t, s, "root")
	wantPage(t, "audit", a.get("/admin/audit"), 200, "api.create", "signing_key", root)
	p := a.get("/admin/audit?action=api.create")
	wantPage(t, "audit by action", p, 200, "api.create")
	if strings.Contains(p.body, "<code>user.create</code>") {
		t.Error("the action filter lists other actions")
	}
	wantPage(t, "bad day", a.get("/admin/audit?since=yesterday"), 400, "From: must be a day")
	wantPage(t, "bad cursor", a.get("/admin/audit?before=abc"), 400, "not one tokend made")
}

// TestConsoleAdminOnly: a signed-in person without the admin role gets
// 403 on every console page and changes nothing; a form posted from
// another origin is refused even for an admin.
func TestConsoleAdminOnly(t *testing.T) {
	s, admin := adminAgent(t)
	apiID := newAPIOnPage(t, admin, "Guarded", "https://guarded.example", "grd", nil)
	newUser(t, s, "pete", alicePW, false)
	a := newAgent(t, s.URL)
	a.signIn("pete", alicePW, "/account")
	for _, path := range []string{"/admin/apis", "/admin/apis/new", "/admin/apis/" + apiID, "/admin/keys", "/admin/keys/new",
		"/admin/clients", "/admin/clients/new", "/admin/tokens", "/admin/signing-keys", "/admin/audit"} {
		wantPage(t, path, a.get(path), 403, "for administrators")
	}
	wantPage(t, "delete API", a.post("/admin/apis/"+apiID+"/delete", url.Values{"confirm": {"yes"}}), 403)
	wantPage(t, "rotate signing", a.post("/admin/signing-keys/rotate", nil), 403)
	if _, err := s.Keys.API(t.Context(), apiID); err != nil {
		t.Errorf("a non-admin deleted the API: %v", err)
	}
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"https://evil.example"},
		"Sec-Fetch-Site": {"cross-site"}}
	p := admin.send("POST", "/admin/apis/"+apiID+"/delete", strings.NewReader("confirm=yes"), h)
	wantPage(t, "cross-origin delete", p, 403, "another site")
	if _, err := s.Keys.API(t.Context(), apiID); err != nil {
		t.Errorf("a cross-origin form deleted the API: %v", err)
	}
	anon := newAgent(t, s.URL)
	if p := anon.get("/admin/keys"); p.status != 303 {
		t.Errorf("signed out /admin/keys = %d, want a redirect to sign in", p.status)
	}
}

// TestConsoleRefusalHidesInternalErrors drives the console's refusal of an
// error that is not for people through the real create-API form: the
// database itself refuses the write (a trigger in the real SQLite file, so
// apikey gets an error of no kind it knows), and the page is the error
// page with a request id, never the form with the error's text, while the
// log keeps the error under that id.
func TestConsoleRefusalHidesInternalErrors(t *testing.T) {
	s, a := adminAgent(t)
	const fault = "injected store fault 7f3a"
	db, err := sql.Open("sqlite", s.DBPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `CREATE TRIGGER fail_apis BEFORE INSERT ON apis BEGIN SELECT RAISE(ABORT, '`+fault+`'); END`); err != nil {
		t.Fatal(err)
	}
	p := a.post("/admin/apis", url.Values{"name": {"Billing"}, "audience": {"https://billing.example"}, "key_prefix": {"bill"},
		"scopes": {"read"}})
	id := p.header.Get("X-Request-Id")
	wantPage(t, "create API with the database refusing", p, 500, "Something went wrong", "Request id: <code>"+id+"</code>")
	for _, leak := range []string{fault, "sqlite", "SQL", "trigger", `name="audience"`} {
		if strings.Contains(p.body, leak) {
			t.Errorf("the error page shows %q:\n%s", leak, p.body)
		}
	}
	var logged bool
	for l := range strings.Lines(s.Logs.String()) {
		if strings.Contains(l, `"page failed"`) && strings.Contains(l, fault) && id != "" && strings.Contains(l, id) {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no \"page failed\" log line with the error and request id %q:\n%s", id, s.Logs.String())
	}
}
