package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
)

// TestListCursorGarbage walks every list of the API (every GET the
// OpenAPI document gives a cursor parameter) with cursors it could not
// have made, each shaped like one some list does make (a number, a dot,
// junk; an id of the wrong prefix or with bits New never sets; a number
// with a sign or a leading zero): each is 400 invalid-field naming
// cursor, the same problem on every list, instead of a 200 with an empty
// page. Cursors of the shape a list makes still page.
func TestListCursorGarbage(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	self := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	pat := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	hook, err := f.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.10/hook", Events: []string{"key.create"}}); err != nil {
		t.Fatal(err)
	}
	f.key(t, api.CreateKeyRequest{})
	f.key(t, api.CreateKeyRequest{})
	cli := oauth.CLIClientID
	get := func(t *testing.T, path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		if resp.StatusCode == 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: content type %q", path, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, m
	}

	// Malformed for every list: the shape of one list's cursor, broken.
	key, user := pat.Token.ID, f.alice.User.ID
	offBits := key[:len(key)-1] + "v" // decodes, but New leaves those bits 0
	malformed := []string{
		"garbage", "zzz", "key_", "usr_!!", "key_0000000000000000000000000z", offBits,
		"1.garbage", "1.", ".1", "1..", "1.2.3", "1.usr_!!", "1." + offBits, "x." + key,
		"+1." + key, "01." + key, "-01." + key, "1e3." + key, "0x1." + key, "99999999999999999999." + key,
		user + ".garbage", "garbage." + cli, user + "." + user + ".x", "1." + user + ".garbage", "+1." + user + "." + cli,
		"+5", "05", "0", "-1", "5.garbage", "msg_", "msg_x", "msg_0", "msg_05", "msg_+5", "msg_5.garbage",
	}
	lists := []struct {
		path, token string
		// extra are malformed for this list alone; wellFormed are of
		// its shape (it may have made them) and page with 200.
		extra, wellFormed []string
	}{
		{path: "/v1/keys", token: f.AdminKey, wellFormed: []string{key}},
		{path: "/v1/users", token: f.AdminKey, extra: []string{key}, wellFormed: []string{user}},
		{path: "/v1/users/" + user + "/tokens", token: f.AdminKey, extra: []string{user}, wellFormed: []string{key}},
		{path: "/v1/tokens", token: f.AdminKey, extra: []string{"1." + key}, wellFormed: []string{key}},
		{path: "/v1/tokens?show=expiring", token: f.AdminKey, extra: []string{key}, wellFormed: []string{"1." + key, "-1." + key}},
		{path: "/v1/tokens?show=unused", token: f.AdminKey, extra: []string{key}, wellFormed: []string{"1." + key}},
		{path: "/v1/grants", token: f.AdminKey, extra: []string{"1." + user + "." + cli},
			wellFormed: []string{user + "." + cli, user + ".https://app.example/client.json"}},
		{path: "/v1/grants?show=unused", token: f.AdminKey, extra: []string{user + "." + cli},
			wellFormed: []string{"1." + user + "." + cli}},
		{path: "/v1/clients", token: f.AdminKey, extra: []string{key}, wellFormed: []string{cli, "https://app.example/client.json"}},
		{path: "/v1/approvals", token: f.AdminKey, extra: []string{key, "1." + user},
			wellFormed: []string{"1." + key, "1." + cli, "1.https://app.example/client.json"}},
		{path: "/v1/approvals?state=denied", token: f.AdminKey, extra: []string{"1." + user}, wellFormed: []string{"1." + key}},
		{path: "/v1/audit", token: f.AdminKey, extra: []string{key}, wellFormed: []string{"5"}},
		{path: "/v1/webhooks", token: f.AdminKey, extra: []string{key}, wellFormed: []string{hook.Webhook.ID}},
		{path: "/v1/webhooks/" + hook.Webhook.ID + "/deliveries", token: f.AdminKey, extra: []string{"5", key},
			wellFormed: []string{"msg_5"}},
		{path: "/v1/me/tokens", token: self.Secret, extra: []string{user}, wellFormed: []string{key}},
	}

	// The table covers every list the API documents.
	covered := map[string]bool{}
	for _, l := range lists {
		covered[strings.Split(l.path, "?")[0]] = true
	}
	for _, p := range cursorPaths(t, f.URL) {
		re := strings.NewReplacer("{id}", f.alice.User.ID)
		if strings.HasPrefix(p, "/v1/webhooks/") {
			re = strings.NewReplacer("{id}", hook.Webhook.ID)
		}
		if !covered[re.Replace(p)] {
			t.Errorf("GET %s takes a cursor but is not in the table", p)
		}
	}

	for _, l := range lists {
		sep := "?"
		if strings.Contains(l.path, "?") {
			sep = "&"
		}
		for _, bad := range append(slices.Clip(malformed), l.extra...) {
			st, p := get(t, l.path+sep+"cursor="+url.QueryEscape(bad), l.token)
			if st != 400 || !strings.HasSuffix(fmt.Sprint(p["type"]), "/invalid-field") || p["field"] != "cursor" ||
				p["detail"] != "cursor: not one tokend made; start again from the first page" {
				t.Errorf("GET %s cursor=%s: %d %v, want 400 invalid-field on cursor", l.path, bad, st, p)
			}
		}
		for _, good := range l.wellFormed {
			if st, p := get(t, l.path+sep+"cursor="+url.QueryEscape(good), l.token); st != 200 {
				t.Errorf("GET %s cursor=%s (of its shape): %d %v, want 200", l.path, good, st, p)
			}
		}
		// A cursor the list made still pages.
		st, page := get(t, l.path+sep+"limit=1", l.token)
		if st != 200 {
			t.Errorf("GET %s limit=1: %d %v", l.path, st, page)
			continue
		}
		if next, ok := page["next_cursor"].(string); ok && next != "" {
			if st, p := get(t, l.path+sep+"limit=1&cursor="+url.QueryEscape(next), l.token); st != 200 {
				t.Errorf("GET %s with its own next_cursor %q: %d %v", l.path, next, st, p)
			}
		}
	}
}

// cursorPaths are the paths of the GET operations of the OpenAPI
// document that take a cursor parameter.
func cursorPaths(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]struct {
			Get struct {
				Parameters []struct {
					Name string `json:"name"`
				} `json:"parameters"`
			} `json:"get"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for p, ops := range doc.Paths {
		for _, prm := range ops.Get.Parameters {
			if prm.Name == "cursor" {
				out = append(out, p)
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("the OpenAPI document names %d lists with a cursor: %v", len(out), out)
	}
	return out
}
