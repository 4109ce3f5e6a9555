package oauth_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/servertest"
)

// The interoperability tests drive a real tokend with panva's
// standards-strict OAuth 2.0 and OpenID Connect clients from npm, pinned
// in testdata/oidc-interop's package-lock.json (.ci/run installs them
// there with npm ci, and the tests do when they are missing). The Node
// script does every request and every check its library offers; the Go
// test is the person, who signs in, consents, enters device codes and
// signs out on the real pages. Each check is a subtest, and a library
// error fails it with what the library said. Without node or npm the
// tests skip, except in CI (.ci/run installs both).

// TestOIDCInteropOAuth4WebAPI runs testdata/oidc-interop/oauth4webapi.mjs:
// oauth4webapi's functions one by one. Discovery at both well-known
// paths with issuer equality; dynamic registration; the code flow with
// PKCE, RFC 9207's iss, nonce, max_age and auth_time, at_hash, the ID
// token's signature (RS256, and ES256 for a client that registered it)
// and userinfo; a denied request, prompt=none signed out and a replayed
// code; refresh rotation; PAR with private_key_jwt; client_credentials
// with client_secret_basic, client_secret_post and private_key_jwt keys
// of ES256, PS256, RS256 and Ed25519; DPoP with the nonce dance for
// client_credentials, PAR, the code, a userinfo challenge and refresh;
// the device grant with authorization_pending and slow_down;
// introspection and revocation; and every access token through
// validateJwtAccessToken (RFC 9068).
//
// It runs against a server whose keys are ES256 (the default) and one
// whose keys are EdDSA (--signing-alg EdDSA): JWT access tokens, and the
// ID tokens of the client that registers that algorithm, are signed
// with it.
func TestOIDCInteropOAuth4WebAPI(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) { runInteropClient(t, "oauth4webapi.mjs", alg) })
	}
}

// TestOIDCInteropOpenIDClient runs testdata/oidc-interop/openid-client.mjs:
// openid-client v6, which wraps oauth4webapi's checks in whole flows as
// apps call them. Registration, PAR with DPoP and automatic nonce
// retries, the code grant from the callback URL with every ID token's
// signature checked, userinfo, a resource's DPoP nonce challenge,
// refresh, introspection, revocation, client_credentials with the
// library's default client_secret_post and with private_key_jwt over
// Ed25519, the device grant with the library's polling, and RP-initiated
// logout. Its server's keys are EdDSA, and so are the ID tokens the
// library verifies.
func TestOIDCInteropOpenIDClient(t *testing.T) { runInteropClient(t, "openid-client.mjs", "EdDSA") }

// runInteropClient runs script against a fresh tokend whose signing keys
// are of alg, answers what it asks of the person, and reports its checks
// as subtests.
func runInteropClient(t *testing.T, script, alg string) {
	dir := interopPackages(t, filepath.Join("testdata", "oidc-interop"))
	e := startEnv(t, servertest.Options{SigningAlg: alg})
	// The library checks iat and exp against the real time.
	e.Clock.Advance(time.Until(e.Clock.Now()) * -1)
	e.person(t)
	cfg, err := json.Marshal(map[string]string{"issuer": e.Issuer, "resource": e.billing.Audience,
		"resource_url": e.billing.Audience + "/v1/invoices", "signing_alg": alg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(cfg))
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := newPerson(t, e, "alice", "Wq8-plum-ferry-Orbit-42")
	type result struct {
		Check string
		OK    bool
		Error json.RawMessage
		raw   string
	}
	var results []result
	done, checks := false, 0
	for lines := bufio.NewScanner(out); lines.Scan(); {
		var line struct {
			result
			Ask                     string
			URL                     string
			Decision                string
			Stranger                bool
			UserCode                string `json:"user_code"`
			VerificationURIComplete string `json:"verification_uri_complete"`
			Done                    bool
			Checks                  int
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Fatalf("client output %q: %v", lines.Text(), err)
		}
		switch {
		case line.Ask != "":
			answer := map[string]string{}
			var err error
			switch line.Ask {
			case "authorize":
				who := p
				if line.Stranger {
					who = newPerson(t, e, "", "") // signed out, and cannot sign in
				}
				answer["url"], err = who.authorize(line.URL, line.Decision)
			case "device":
				err = p.approveDevice(line.VerificationURIComplete)
				// The next poll is a poll interval later.
				e.Clock.Advance(oauth.DevicePollInterval)
			case "logout":
				answer["url"], err = p.logout(line.URL)
			default:
				err = fmt.Errorf("unknown question %q", line.Ask)
			}
			if err != nil {
				t.Errorf("%s: %v", line.Ask, err)
				answer["error"] = err.Error()
			}
			b, _ := json.Marshal(answer)
			if _, err := in.Write(append(b, '\n')); err != nil {
				t.Fatal(err)
			}
		case line.Check != "":
			line.raw = lines.Text()
			results = append(results, line.result)
		case line.Done:
			done, checks = true, line.Checks
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil || !done {
		t.Errorf("node %s: %v (done: %v)\n%s", script, err, done, stderr.String())
	}
	for _, r := range results {
		t.Run(r.Check, func(t *testing.T) {
			if !r.OK {
				t.Errorf("%s: %s", script, r.Error)
			}
			t.Log(r.raw)
		})
	}
	if len(results) != checks || checks < 10 {
		t.Errorf("the client reported %d checks of %d", len(results), checks)
	}
}

// interopPackages returns dir, where the npm packages of its
// package-lock.json are installed: .ci/run installs them with npm ci,
// and so does the test when one is missing or of another version.
// Without node or npm it skips, except in CI.
func interopPackages(t *testing.T, dir string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs Node.js and npm", tool)
			}
			t.Skipf("%s is not installed: this interoperability test runs npm packages (.ci/run installs them)", tool)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !npmInstalled(t, abs) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--silent")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return abs
}

// npmInstalled reports whether every package of dir's lock file is in
// its node_modules, at the locked version.
func npmInstalled(t *testing.T, dir string) bool {
	t.Helper()
	var lock struct {
		Packages map[string]struct{ Version string }
	}
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err == nil {
		err = json.Unmarshal(b, &lock)
	}
	if err != nil {
		t.Fatal(err)
	}
	for path, p := range lock.Packages {
		if path == "" {
			continue
		}
		var installed struct{ Version string }
		b, err := os.ReadFile(filepath.Join(dir, path, "package.json"))
		if err != nil || json.Unmarshal(b, &installed) != nil || installed.Version != p.Version {
			return false
		}
	}
	return true
}

// person is someone at a browser, on tokend's real pages: it keeps
// cookies, reads redirects itself, and posts the pages' forms as the
// browser would.
type person struct {
	base, username, password string
	c                        *http.Client
}

func newPerson(t *testing.T, e *env, username, password string) *person {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &person{base: e.URL, username: username, password: password, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer of the pages.
type page struct {
	status   int
	location string
	body     string
}

func (p *person) send(method, target string, form url.Values) (page, error) {
	if !strings.HasPrefix(target, "http") {
		target = p.base + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return page{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", p.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := p.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header.Get("Location"), string(b)}, err
}

var (
	hiddenInput  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	continueLink = regexp.MustCompile(`<a id="continue" href="([^"]+)"`)
)

// signInOn follows pg: the sign-in page it redirects to is answered
// with the person's password, and the redirects after it are followed,
// until a page that is not a redirect.
func (p *person) signInOn(pg page) (page, error) {
	var err error
	for range 5 {
		if pg.status != http.StatusSeeOther {
			return pg, nil
		}
		u, perr := url.Parse(pg.location)
		if perr != nil || u.Host != "" {
			return pg, fmt.Errorf("redirect to %q, not a page of tokend", pg.location)
		}
		if u.Path == "/signin" {
			pg, err = p.send(http.MethodPost, "/signin", url.Values{"username": {p.username}, "password": {p.password},
				"next": {u.Query().Get("next")}})
		} else {
			pg, err = p.send(http.MethodGet, pg.location, nil)
		}
		if err != nil {
			return pg, err
		}
	}
	return pg, fmt.Errorf("too many redirects, at %q", pg.location)
}

// authorize opens an authorization URL, signs in if asked, answers the
// consent page with decision (allow or deny) and returns the URL the
// browser is sent back to.
func (p *person) authorize(authURL, decision string) (string, error) {
	pg, err := p.send(http.MethodGet, authURL, nil)
	if err == nil {
		pg, err = p.signInOn(pg)
	}
	if err != nil {
		return "", err
	}
	if strings.Contains(pg.body, `action="/oauth2/authorize/decide"`) {
		f := url.Values{"decision": {decision}}
		for _, m := range hiddenInput.FindAllStringSubmatch(pg.body, -1) {
			f.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		if pg, err = p.send(http.MethodPost, "/oauth2/authorize/decide", f); err != nil {
			return "", err
		}
	}
	m := continueLink.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil {
		return "", fmt.Errorf("no way back to the app: %d\n%s", pg.status, pg.body)
	}
	return html.UnescapeString(m[1]), nil
}

// approveDevice opens the device page at verification_uri_complete,
// signs in if asked, and allows the request.
func (p *person) approveDevice(complete string) error {
	if !strings.HasPrefix(complete, p.base+oauth.DevicePagePath+"?") {
		return fmt.Errorf("verification_uri_complete %q is not tokend's device page", complete)
	}
	pg, err := p.send(http.MethodGet, complete, nil)
	if err == nil {
		pg, err = p.signInOn(pg)
	}
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`name="user_code"[^>]*value="([^"]+)"`).FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil {
		return fmt.Errorf("the device page has no code filled in: %d\n%s", pg.status, pg.body)
	}
	if pg, err = p.send(http.MethodPost, oauth.DevicePagePath, url.Values{"user_code": {html.UnescapeString(m[1])}}); err != nil {
		return err
	}
	f := url.Values{"decision": {"allow"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(pg.body, -1) {
		f.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if f.Get("user_code") == "" {
		return fmt.Errorf("no consent page for the device code: %d\n%s", pg.status, pg.body)
	}
	if pg, err = p.send(http.MethodPost, "/device/decide", f); err != nil {
		return err
	}
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "Your device is connected") {
		return fmt.Errorf("allowing the device = %d\n%s", pg.status, pg.body)
	}
	return nil
}

// logout opens an RP-initiated logout URL, confirms on the page and
// returns the URL the browser is sent back to.
func (p *person) logout(logoutURL string) (string, error) {
	pg, err := p.send(http.MethodGet, logoutURL, nil)
	if err != nil {
		return "", err
	}
	f := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(pg.body, -1) {
		f.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if pg.status != http.StatusOK || !f.Has("query") {
		return "", fmt.Errorf("no sign-out page: %d\n%s", pg.status, pg.body)
	}
	if pg, err = p.send(http.MethodPost, oauth.EndSessionPath, f); err != nil {
		return "", err
	}
	m := continueLink.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil {
		return "", fmt.Errorf("no way back to the app after signing out: %d\n%s", pg.status, pg.body)
	}
	return html.UnescapeString(m[1]), nil
}
