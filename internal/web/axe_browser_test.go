package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// The accessibility test runs axe-core (Deque's rules engine, from npm,
// pinned in testdata/axe/package-lock.json) in chromium against every
// page the package serves, and fails on any violation axe rates serious
// or critical.
//
// To add a page: add a row to a11yPages below: a name, the browser that
// reaches it (who: anon, pending, enrol, admin or person, set up by
// newA11yEnv), and open, the steps that bring that browser to the page
// and wait for it (visit(path, selector) for a plain GET). If the page
// needs data, create it in newA11yEnv and keep its id in a11yEnv.

// axeDir holds the pinned axe-core; .ci/run installs it there (npm ci).
const axeDir = "testdata/axe"

// axeSource is axe-core's script, installed with npm ci when it is
// missing. Without npm the test skips, except in CI, where it fails.
func axeSource(t *testing.T) string {
	t.Helper()
	file := filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		npm, lerr := exec.LookPath("npm")
		if lerr != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("npm is not installed; .ci/run installs axe-core with npm ci in internal/web/testdata/axe")
			}
			t.Skip("npm is not installed, so axe-core cannot be; the accessibility test needs it (apt-get install npm)")
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--silent")
		cmd.Dir = axeDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", axeDir, err, out)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// a11yEnv is what the pages of the test are reached with: two servers
// (one asking admins for a second factor, one not) and a browser for
// each kind of visitor.
type a11yEnv struct {
	mfa, open *servertest.Server
	// anon is signed out, on mfa; pending has passed the password step
	// of an admin with an authenticator app, on mfa; enrol is an admin
	// without a second factor, on mfa; admin is an admin and person
	// is not, on open.
	anon, pending, enrol, admin, person *browser
	// ids of things the admin pages show.
	link, userID, apiID, keyID, clientID, patID string
	webhookID                                   string
	consentURL                                  string
}

// visit opens path on the visitor's server and waits for sel.
func visit(path, sel string) func(*a11yEnv, *browser, string) {
	return func(_ *a11yEnv, b *browser, base string) {
		b.do(chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
	}
}

// a11yPages are the pages of the accessibility test: every page of the
// package. open brings the browser b (on the server at base) to the
// page.
var a11yPages = []struct {
	name string
	who  string
	open func(e *a11yEnv, b *browser, base string)
}{
	{"sign-in", "anon", visit("/signin", "#username")},
	{"set-password", "anon", func(e *a11yEnv, b *browser, base string) {
		b.do(chromedp.Navigate(base+"/set-password#"+e.link), chromedp.WaitVisible(chromedp.CSS("#password")))
	}},
	{"not found", "anon", visit("/no-such-page", "main h1")},
	{"logout", "anon", visit("/oauth2/logout", "main h1")},
	{"second factor", "pending", visit("/signin/second-factor", "#code")},
	{"enrol", "enrol", visit("/signin/enrol", "main h1")},
	{"passkeys while enrolling", "enrol", visit("/account/passkeys", "main h1")},
	{"authenticator app while enrolling", "enrol", visit("/account/totp", "#setup")},
	{"account", "admin", visit("/account", "#profile")},
	{"password", "admin", visit("/account/password", "main form")},
	{"sessions", "admin", visit("/account/sessions", "table")},
	{"passkeys", "admin", visit("/account/passkeys", "main h1")},
	{"authenticator app", "admin", visit("/account/totp", "#setup")},
	{"authenticator app set-up", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/account/totp", "#setup")(e, b, base)
		b.do(chromedp.Click(chromedp.CSS(`form[action="/account/totp/begin"] button`), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
	}},
	{"recovery codes", "admin", func(e *a11yEnv, b *browser, base string) {
		code, err := totp.GenerateCode(b.text("#totp-secret"), e.open.Clock.Now())
		if err != nil {
			b.t.Fatal(err)
		}
		b.submit([][2]string{{"#code", code}}, `form[action="/account/totp/confirm"] button`, "#recovery-codes")
	}},
	{"authenticator app on", "admin", visit("/account/totp", "#status")},
	{"device", "admin", visit("/device", "#user_code")},
	{"consent", "admin", func(e *a11yEnv, b *browser, base string) {
		b.do(chromedp.Navigate(e.consentURL), chromedp.WaitVisible(chromedp.CSS("button[value=allow]")))
	}},
	// The app's redirect endpoint answers 204, so the browser stays on
	// the page that sends it there.
	{"return to the app", "admin", func(e *a11yEnv, b *browser, base string) {
		b.do(chromedp.Navigate(e.consentURL), chromedp.Click(chromedp.CSS("button[value=allow]"), chromedp.NodeVisible),
			chromedp.WaitVisible(chromedp.CSS("#continue")))
	}},
	{"my tokens", "admin", visit("/account/tokens", "#pats")},
	{"my token", "admin", func(e *a11yEnv, b *browser, base string) { visit("/account/tokens/"+e.patID, "#uses")(e, b, base) }},
	{"new token", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/account/tokens/new?api_id="+e.apiID, "#name")(e, b, base)
	}},
	{"new token's secret", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/account/tokens/new?api_id="+e.apiID, "#name")(e, b, base)
		b.submit([][2]string{{"#name", "a11y"}}, "main form button[type=submit]", "#secret")
	}},
	{"revoke everything", "admin", visit("/account/tokens/revoke-all", "main form")},
	{"admin users", "admin", visit("/admin/users", "table")},
	{"admin user", "admin", func(e *a11yEnv, b *browser, base string) { visit("/admin/users/"+e.userID, "#details")(e, b, base) }},
	{"admin new user", "admin", visit("/admin/users/new", "#username")},
	{"admin APIs", "admin", visit("/admin/apis", "table")},
	{"admin new API", "admin", visit("/admin/apis/new", "#audience")},
	{"admin API", "admin", func(e *a11yEnv, b *browser, base string) { visit("/admin/apis/"+e.apiID, "#user_scopes")(e, b, base) }},
	{"admin API refused", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/apis/"+e.apiID, "#pat_max_ttl")(e, b, base)
		b.do(chromedp.SetValue(chromedp.CSS("#pat_max_ttl"), "soon"), chromedp.Click(chromedp.CSS("#settings-heading + form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#form-error")))
	}},
	{"admin keys", "admin", visit("/admin/keys", "table")},
	{"admin new key", "admin", visit("/admin/keys/new", "#subject")},
	{"admin key secret", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/keys/new", "#subject")(e, b, base)
		b.submit([][2]string{{"#subject", "svc-a11y"}, {"#scopes", "read"}}, "main form button[type=submit]", "#secret")
	}},
	{"admin key", "admin", func(e *a11yEnv, b *browser, base string) { visit("/admin/keys/"+e.keyID, "#details")(e, b, base) }},
	{"admin clients", "admin", visit("/admin/clients", "table")},
	{"admin new client", "admin", visit("/admin/clients/new", "#api_scopes")},
	{"admin client", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/clients/"+e.clientID, "#details")(e, b, base)
	}},
	{"admin tokens", "admin", visit("/admin/tokens?user=root", "#grants-heading")},
	{"admin grants", "admin", visit("/admin/grants", "#grants-heading + form table")},
	{"admin grants refused", "admin", visit("/admin/grants?user=nobody", "#form-error")},
	{"admin approvals", "admin", visit("/admin/approvals", "button[value=deny]")},
	{"admin approvals refused", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/approvals", "button[value=deny]")(e, b, base)
		b.do(chromedp.Click(chromedp.CSS("button[value=deny]"), chromedp.NodeVisible), chromedp.WaitVisible(chromedp.CSS("#form-error")))
	}},
	{"admin approvals decided", "admin", visit("/admin/approvals?show=approved", "main h1")},
	{"admin signing keys", "admin", visit("/admin/signing-keys", "table")},
	{"admin audit", "admin", visit("/admin/audit", "table")},
	{"admin webhooks", "admin", visit("/admin/webhooks", "table")},
	{"admin new webhook", "admin", visit("/admin/webhooks/new", "#url")},
	{"admin new webhook refused", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/webhooks/new", "#url")(e, b, base)
		b.submit([][2]string{{"#url", "https://127.0.0.1/hook"}}, "main form button[type=submit]", "#form-error")
	}},
	{"admin webhook secret", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/webhooks/new", "#url")(e, b, base)
		b.do(chromedp.Click(chromedp.CSS(`input[value="key.create"]`), chromedp.NodeVisible))
		b.submit([][2]string{{"#url", "https://203.0.114.9/a11y"}}, "main form button[type=submit]", "#secret")
	}},
	{"admin webhook", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/webhooks/"+e.webhookID, "#details")(e, b, base)
	}},
	{"admin webhook deliveries", "admin", func(e *a11yEnv, b *browser, base string) {
		visit("/admin/webhooks/"+e.webhookID+"/deliveries", "table")(e, b, base)
	}},
	{"refused (403)", "person", visit("/admin/users", "main h1")},
}

// newA11yEnv starts the servers, the browsers and the data the pages
// show.
func newA11yEnv(t *testing.T) *a11yEnv {
	t.Helper()
	e := &a11yEnv{mfa: servertest.New(t), open: servertest.Start(t, servertest.Options{MFA: user.MFAOff})}
	ctx := t.Context()
	e.link = newLink(t, e.mfa, "fern")

	mia := newUser(t, e.mfa, "mia", alicePW, true)
	en, err := e.mfa.Users.BeginTOTP(ctx, mia.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(en.Secret, e.mfa.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.mfa.Users.ConfirmTOTP(ctx, mia.ID, code); err != nil {
		t.Fatal(err)
	}
	newUser(t, e.mfa, "noe", alicePW, true)
	e.anon, e.pending, e.enrol = newBrowser(t), newBrowser(t), newBrowser(t)
	signInBrowser(e.pending, e.mfa.URL, "mia", alicePW, "#code")
	signInBrowser(e.enrol, e.mfa.URL, "noe", alicePW, "main h1")

	s := e.open
	root := newUser(t, s, "root", alicePW, true)
	e.userID = newUser(t, s, "ivy", alicePW, false).ID
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Wiki", Audience: "https://wiki.example", KeyPrefix: "wiki",
		Scopes: []string{"read", "write"}, Policy: api.Policy{ScopeDescriptions: map[string]string{"read": "Read pages"},
			UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read", "write"}}}, PATAllowNoExpiry: true,
			PATApprovalScopes: []string{"write"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.apiID = a.ID
	// A public address nobody answers here: the deliverer does not run,
	// so the key below leaves a pending delivery in the log.
	wh, err := s.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create"},
		Description: "SIEM"})
	if err != nil {
		t.Fatal(err)
	}
	e.webhookID = wh.Webhook.ID
	k, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "svc-wiki", Name: "Wiki sync", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	e.keyID = k.Key.ID
	e.patID, _ = newPAT(t, s, root.ID, a.ID, "laptop", 0)
	// A token waiting for approval, shown on "my tokens" and the
	// console's approvals page.
	if _, err := s.Client.CreateUserToken(ctx, root.ID, api.CreateTokenRequest{APIID: a.ID, Name: "wiki bot",
		Scopes: []string{"write"}}); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(app.Close)
	c, err := s.Client.CreateClient(ctx, api.CreateClientRequest{Name: "Wiki app", GrantTypes: []string{"authorization_code"},
		APIScopes: map[string][]string{a.ID: {"read"}}, TokenEndpointAuthMethod: "none",
		ClientSettings: api.ClientSettings{RedirectURIs: []string{app.URL + "/callback"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clientID = c.Client.ID
	e.consentURL = s.URL + "/oauth2/authorize?" + url.Values{"client_id": {c.Client.ID}, "response_type": {"code"},
		"redirect_uri": {app.URL + "/callback"}, "scope": {"openid read"}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()
	e.admin, e.person = newBrowser(t), newBrowser(t)
	signInBrowser(e.admin, s.URL, "root", alicePW, "#profile")
	signInBrowser(e.person, s.URL, "ivy", alicePW, "#profile")
	return e
}

// axeViolation is what the test reports of one axe violation.
type axeViolation struct {
	ID, Impact, Help string
	Targets          []string
}

// axeCheck is the script that runs axe on the page and returns its
// serious and critical violations as JSON.
const axeCheck = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Targets: v.nodes.map(n => n.target.join(" "))}))))`

// TestBrowserAccessibility: every page of a11yPages has no serious or
// critical axe-core violation, at desktop and phone width.
func TestBrowserAccessibility(t *testing.T) {
	src := axeSource(t)
	e := newA11yEnv(t)
	for _, p := range a11yPages {
		b, base := e.anon, e.mfa.URL
		switch p.who {
		case "pending":
			b = e.pending
		case "enrol":
			b = e.enrol
		case "admin":
			b, base = e.admin, e.open.URL
		case "person":
			b, base = e.person, e.open.URL
		}
		p.open(e, b, base)
		for _, s := range screens {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if s.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			b.do(chromedp.EmulateViewport(s.width, s.height, opts...))
			run(b, chromedp.Evaluate[any](src))
			out := run(b, chromedp.Evaluate[string](axeCheck, chromedp.EvalAwaitPromise))
			var vs []axeViolation
			if err := json.Unmarshal([]byte(out), &vs); err != nil {
				t.Fatalf("%s: axe answered %q: %v", p.name, out, err)
			}
			for _, v := range vs {
				t.Errorf("%s (%s, %s): %s %s: %s on %s", p.name, s.name, b.location(), v.Impact, v.ID, v.Help, strings.Join(v.Targets, ", "))
			}
		}
		b.do(chromedp.EmulateViewport(1280, 800))
	}
	fmt.Fprintf(os.Stderr, "axe-core checked %d pages\n", len(a11yPages))
}
