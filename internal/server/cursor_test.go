package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestListCursorGarbage: every list of the API refuses a cursor it could
// not have made with 400 invalid-field naming cursor, instead of a 200
// with an empty page; the cursor a list did make still pages.
func TestListCursorGarbage(t *testing.T) {
	f := newPATFixture(t)
	self := f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	f.pat(t, f.alice.User.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	f.key(t, api.CreateKeyRequest{})
	f.key(t, api.CreateKeyRequest{})
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
	lists := []struct{ path, token string }{
		{"/v1/keys", f.AdminKey},
		{"/v1/users", f.AdminKey},
		{"/v1/users/" + f.alice.User.ID + "/tokens", f.AdminKey},
		{"/v1/tokens", f.AdminKey},
		{"/v1/tokens?show=expiring", f.AdminKey}, // time-ordered: at.id cursors
		{"/v1/grants", f.AdminKey},
		{"/v1/clients", f.AdminKey},
		{"/v1/approvals", f.AdminKey},
		{"/v1/audit", f.AdminKey},
		{"/v1/me/tokens", self.Secret},
	}
	for _, l := range lists {
		sep := "?"
		if strings.Contains(l.path, "?") {
			sep = "&"
		}
		for _, bad := range []string{"garbage", "zzz", "key_", "usr_!!", "key_0000000000000000000000000z"} {
			st, p := get(t, l.path+sep+"cursor="+bad, l.token)
			if st != 400 || !strings.HasSuffix(fmt.Sprint(p["type"]), "/invalid-field") || p["field"] != "cursor" {
				t.Errorf("GET %s cursor=%s: %d %v, want 400 invalid-field on cursor", l.path, bad, st, p)
			}
		}
		// A cursor the list made still pages.
		st, page := get(t, l.path+sep+"limit=1", l.token)
		if st != 200 {
			t.Errorf("GET %s limit=1: %d %v", l.path, st, page)
			continue
		}
		if next, ok := page["next_cursor"].(string); ok && next != "" {
			if st, p := get(t, l.path+sep+"limit=1&cursor="+next, l.token); st != 200 {
				t.Errorf("GET %s with its own next_cursor %q: %d %v", l.path, next, st, p)
			}
		}
	}
}
