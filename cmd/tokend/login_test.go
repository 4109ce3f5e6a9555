package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestLoginThroughDeviceFlow runs "tokend login" against a real "tokend
// serve": it prints the device page and a code; a person signs in on the
// pages and approves the code there; login then keeps a tokend:self
// token in the config directory (0600 in a 0700 directory), with which
// "tokend me" and "tokend pat" work without an admin key.
func TestLoginThroughDeviceFlow(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	base, admin, _, _ := startServe(t, t.TempDir())
	adm, err := client.New(client.Config{URL: base, Token: admin})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "quiet-harbour-lantern-71"
	if _, err := adm.CreateUser(t.Context(), api.CreateUserRequest{Username: "rosa", Password: pw}); err != nil {
		t.Fatal(err)
	}
	a, err := adm.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Pay", Audience: "https://pay.example", Scopes: []string{"read"},
		KeyPrefix: "pay", Policy: api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}}})
	if err != nil {
		t.Fatal(err)
	}

	pr, pw2 := io.Pipe()
	var out bytes.Buffer
	done := make(chan int, 1)
	go func() {
		var errb bytes.Buffer
		code := run(t.Context(), []string{"login", "--server", base, "--name", "laptop"}, strings.NewReader(""),
			io.MultiWriter(&out, pw2), &errb, func(string) string { return "" })
		pw2.Close()
		if code != 0 {
			t.Errorf("login: exit %d: %s", code, &errb)
		}
		done <- code
	}()
	code := readUserCode(t, pr)
	go io.Copy(io.Discard, pr)
	approveDevice(t, base, "rosa", pw, code)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("login did not finish after the approval")
	}
	if !strings.Contains(out.String(), "as rosa") || strings.Contains(out.String(), "tkpt_") {
		t.Errorf("login printed %q: want the person, never the token", out.String())
	}
	path := filepath.Join(cfg, "tokend", "login.json")
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, want)
		}
	}
	var l login
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, &l) != nil || !strings.HasPrefix(l.Token, "tkpt_") || l.Server != base {
		t.Fatalf("login.json = %+v (%v)", l, err)
	}

	if me := cli(t, "", "", 0, "me"); !strings.Contains(me, "rosa") {
		t.Errorf("tokend me = %q", me)
	}
	var ct api.CreatedToken
	mustJSON(t, cli(t, "", "", 0, "pat", "create", "--json", "--api", a.ID, "--name", "ci", "--scopes", "read", "--ttl", "7d"), &ct)
	if list := cli(t, "", "", 0, "pat", "list"); !strings.Contains(list, ct.Token.ID) || !strings.Contains(list, "laptop") {
		t.Errorf("pat list = %q", list)
	}
	var rot api.CreatedToken
	mustJSON(t, cli(t, "", "", 0, "pat", "rotate", "--json", ct.Token.ID), &rot)
	cli(t, "", "", 0, "pat", "revoke", rot.Token.ID)
	res, err := adm.Verify(t.Context(), api.VerifyRequest{Token: rot.Secret, Audience: "https://pay.example"})
	if err != nil || res.Code != api.CodeRevoked {
		t.Errorf("the revoked token verifies as %+v (%v)", res, err)
	}
	cli(t, "", "", exitUsage, "pat", "revoke", rot.Secret) // a secret in place of an id never leaves
}

// readUserCode reads login's output until it names the code.
func readUserCode(t *testing.T, r io.Reader) string {
	t.Helper()
	re := regexp.MustCompile(`enter the code ([A-Z0-9]{4}-[A-Z0-9]{4})\n`)
	var seen []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n, err := r.Read(buf)
		seen = append(seen, buf[:n]...)
		if m := re.FindSubmatch(seen); m != nil {
			return string(m[1])
		}
		if err != nil {
			break
		}
	}
	t.Fatalf("login printed no code: %q", seen)
	return ""
}

// approveDevice signs username in on the pages and approves code on the
// device page, as a browser would.
func approveDevice(t *testing.T, base, username, password, code string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	post := func(path string, form url.Values) string {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s = %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	post("/signin", url.Values{"username": {username}, "password": {password}})
	if page := post("/device", url.Values{"user_code": {code}}); !strings.Contains(page, "tokend CLI") {
		t.Fatalf("the device page for code %q does not name the CLI:\n%s", code, page)
	} else if m := regexp.MustCompile(`name="user_code" value="([^"]+)"`).FindStringSubmatch(page); m != nil {
		code = m[1] // the page's normalized code
	}
	post("/device/decide", url.Values{"user_code": {code}, "decision": {"allow"}})
}
