package web_test

import (
	"bufio"
	"context"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/servertest"
)

// TestMCPConformance runs the official MCP conformance suite's
// authorization-server scenarios (@modelcontextprotocol/conformance, its
// authorization command: the metadata endpoint and the authorization code
// grant) against a real tokend. The suite plays the client: it prints the
// authorization URL for a person to open and waits on its own callback
// server; here the person is an agent that signs in on the real sign-in
// page and allows on the real consent page. The command exists only in
// the 0.2.0 alphas, which need Node 22: both are pinned in
// testdata/mcpconformance and installed by npm ci.
func TestMCPConformance(t *testing.T) {
	dir := npmCI(t, filepath.Join("testdata", "mcpconformance"))
	s := servertest.New(t)
	newUser(t, s, "cora", alicePW, false)
	port := freePort(t)
	cid := registerPublic(t, s, map[string]any{"client_name": "MCP conformance",
		"redirect_uris": []string{"http://127.0.0.1:" + port + "/callback"}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}})

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "node_modules", ".bin", "node"),
		filepath.Join(dir, "node_modules", ".bin", "conformance"), "authorization",
		"--url", s.URL, "--client-id", cid, "--port", port, "--output-dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var authorize string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		log.WriteString(line + "\n")
		switch {
		case strings.HasPrefix(line, s.URL+"/oauth2/authorize?"):
			authorize = strings.TrimPrefix(line, s.URL)
		case strings.HasPrefix(line, "Callback server started") && authorize != "":
			go approve(t, s, authorize) // the suite listens only now
		}
	}
	err = cmd.Wait()
	t.Logf("conformance suite:\n%s", log.String())
	if err != nil || !strings.Contains(log.String(), "Total: 2 passed, 0 failed") {
		t.Fatalf("the MCP conformance suite's authorization scenarios did not all pass (%v)", err)
	}
}

var (
	requestURIField = regexp.MustCompile(`name="request_uri" value="([^"]+)"`)
	callbackLink    = regexp.MustCompile(`href="(http://127\.0\.0\.1:[0-9]+/callback\?[^"]+)"`)
)

// approve is the person: sign in, open the authorization URL, allow on the
// consent page, and follow the link back to the app's callback.
func approve(t *testing.T, s *servertest.Server, authorize string) {
	a := newAgent(t, s.URL)
	a.signIn("cora", alicePW, "/account")
	consent := a.get(authorize)
	m := requestURIField.FindStringSubmatch(consent.body)
	if consent.status != http.StatusOK || m == nil {
		t.Errorf("authorization page = %d, no consent form:\n%s", consent.status, consent.body)
		return
	}
	cid := must(url.ParseQuery(strings.SplitN(authorize, "?", 2)[1])).Get("client_id")
	back := a.post("/oauth2/authorize/decide", url.Values{"client_id": {cid}, "request_uri": {html.UnescapeString(m[1])},
		"decision": {"allow"}})
	link := callbackLink.FindStringSubmatch(back.body)
	if link == nil {
		t.Errorf("after allow = %d, no link back to the app:\n%s", back.status, back.body)
		return
	}
	res, err := http.Get(html.UnescapeString(link[1]))
	if err != nil {
		t.Errorf("callback: %v", err)
		return
	}
	res.Body.Close()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// npmCI installs the npm packages pinned in dir with npm ci, or skips the
// test where node or npm is missing (.ci/run installs both).
func npmCI(t *testing.T, dir string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: this test runs npm packages (.ci/run installs node and npm)", tool)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "npm", "ci", "--no-audit", "--no-fund", "--silent")
	cmd.Dir = abs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return abs
}
