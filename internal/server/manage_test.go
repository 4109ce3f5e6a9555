package server_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

func clientList(apiID string) client.ListKeysOptions { return client.ListKeysOptions{APIID: apiID} }
func auditAll() client.AuditFilter                   { return client.AuditFilter{Limit: 500} }

func readAll(t *testing.T, paths ...string) []byte {
	t.Helper()
	var out []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if len(out) == 0 {
		t.Fatal("nothing read")
	}
	return out
}

func TestAPILifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Name: new("Payments v2"),
		Policy: &api.Policy{MaxKeyTTL: api.Duration(24 * time.Hour), RequireIPAllowlist: true,
			DefaultRateLimits: []api.RateLimit{{Name: "min", Limit: 60, Window: api.Duration(time.Minute)}}}})
	if err != nil || a.Name != "Payments v2" || a.Audience != f.api.Audience {
		t.Fatalf("UpdateAPI = %+v, %v", a, err)
	}
	if _, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s"}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("key without allowlist under require_ip_allowlist: %v", err)
	}
	k := f.key(t, api.CreateKeyRequest{AllowedCIDRs: []string{"192.0.2.0/24"}})
	if k.Key.ExpiresAt == nil || !k.Key.ExpiresAt.Equal(f.Clock.Now().Add(24*time.Hour)) {
		t.Errorf("expiry under max_key_ttl = %v, want now+24h", k.Key.ExpiresAt)
	}
	if len(k.Key.RateLimits) != 1 || k.Key.RateLimits[0].Name != "min" {
		t.Errorf("default rate limits not applied: %+v", k.Key.RateLimits)
	}
	if _, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s", TTL: dur(48 * time.Hour),
		AllowedCIDRs: []string{"192.0.2.0/24"}}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("ttl beyond max_key_ttl: %v", err)
	}
	if err := f.Client.DeleteAPI(ctx, a.ID); problemCode(err) != api.ErrConflict {
		t.Fatalf("delete with a live key: %v", err)
	}
	f.Client.RevokeKey(ctx, k.Key.ID)
	if err := f.Client.DeleteAPI(ctx, a.ID); err != nil {
		t.Fatalf("delete after revocation: %v", err)
	}
	if _, err := f.Client.GetAPI(ctx, a.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("get deleted API: %v", err)
	}
	if r := f.verify(t, api.VerifyRequest{Token: k.Secret}); r.Code != api.CodeNotFound {
		t.Errorf("key of a deleted API: %s", r.Code)
	}
}

func TestKeyUpdateAndPaging(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	var ids []string
	for i := range 7 {
		ids = append(ids, f.key(t, api.CreateKeyRequest{Subject: []string{"alice", "bob"}[i%2]}).Key.ID)
	}
	var got []string
	opts := client.ListKeysOptions{APIID: f.api.ID, Subject: "alice", Limit: 2}
	for {
		page, err := f.Client.ListKeys(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			got = append(got, k.ID)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	// Pages come in id order; ids made in the same millisecond (the test
	// clock stands still) order randomly, so compare the sets.
	want := []string{ids[0], ids[2], ids[4], ids[6]}
	slices.Sort(want)
	if !slices.IsSorted(got) || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paged alice keys = %v, want %v", got, want)
	}
	k, err := f.Client.UpdateKey(ctx, ids[0], api.UpdateKeyRequest{Name: new("ci"), Scopes: &[]string{"write"},
		ExpiresAt: api.Some(f.Clock.Now().Add(time.Hour)), Credits: api.Some(api.Credits{Remaining: 5}),
		Metadata: json.RawMessage(`{"team":"x"}`), AllowedCIDRs: &[]string{"10.1.0.0/16"}})
	if err != nil || k.Name != "ci" || k.Scopes[0] != "write" || k.Credits.Remaining != 5 || k.ExpiresAt == nil || k.Subject != "alice" {
		t.Fatalf("UpdateKey = %+v, %v", k, err)
	}
	k, err = f.Client.UpdateKey(ctx, ids[0], api.UpdateKeyRequest{ExpiresAt: api.Null[time.Time](), Credits: api.Null[api.Credits]()})
	if err != nil || k.ExpiresAt != nil || k.Credits != nil || k.Name != "ci" {
		t.Errorf("clearing with null = %+v, %v", k, err)
	}
	if _, err := f.Client.UpdateKey(ctx, ids[0], api.UpdateKeyRequest{Scopes: &[]string{"delete"}}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("undefined scope in update: %v", err)
	}
}

func TestAuditTrail(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	f.Client.UpdateKey(ctx, k.Key.ID, api.UpdateKeyRequest{Scopes: &[]string{"read", "write"}})
	f.Client.RotateKey(ctx, k.Key.ID, api.RotateKeyRequest{})
	f.Client.RevokeKey(ctx, k.Key.ID)
	f.Client.RevokeKey(ctx, k.Key.ID) // a no-op writes nothing
	l, err := f.Client.ListAudit(ctx, client.AuditFilter{TargetID: k.Key.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range l.Events {
		actions = append(actions, e.Action)
		if e.Actor == "" || e.ClientIP != "127.0.0.1" || e.TargetType != "key" {
			t.Errorf("event %+v lacks actor, client IP or target", e)
		}
	}
	if got, want := strings.Join(actions, ","), "key.revoke,key.rotate,key.update,key.create"; got != want {
		t.Fatalf("actions = %s, want %s", got, want)
	}
	upd := l.Events[2]
	if string(upd.Before) != `{"scopes":["read"]}` || string(upd.After) != `{"scopes":["read","write"]}` {
		t.Errorf("update before/after = %s / %s", upd.Before, upd.After)
	}
	page, _ := f.Client.ListAudit(ctx, client.AuditFilter{Limit: 2})
	next, _ := f.Client.ListAudit(ctx, client.AuditFilter{Limit: 2, Cursor: page.NextCursor})
	if len(page.Events) != 2 || page.NextCursor == "" || len(next.Events) != 2 || next.Events[0].ID >= page.Events[1].ID {
		t.Errorf("audit paging: %+v then %+v", page, next)
	}
	byAction, _ := f.Client.ListAudit(ctx, client.AuditFilter{Action: "api.create"})
	if len(byAction.Events) != 1 || byAction.Events[0].TargetID != f.api.ID {
		t.Errorf("filter by action: %+v", byAction.Events)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{})
	f.verify(t, api.VerifyRequest{Token: k.Secret})
	f.verify(t, api.VerifyRequest{Token: k.Secret})
	for path, want := range map[string]string{
		"/healthz": `"status":"ok"`,
		"/readyz":  `"database":"sqlite"`,
		"/metrics": `tokend_verifications_total{code="VALID"}`,
	} {
		resp, _, b := f.rawBody(t, "GET", path, "", "", "none")
		if resp.StatusCode != 200 || !strings.Contains(b, want) {
			t.Errorf("GET %s = %d, body lacks %s", path, resp.StatusCode, want)
		}
	}
}

// TestCreateKeyNullMetadata checks that "metadata": null at creation is
// the same as no metadata: no answer (create, show, verify) holds
// "metadata": null afterwards.
func TestCreateKeyNullMetadata(t *testing.T) {
	f := newFixture(t)
	resp, _, body := f.rawBody(t, "POST", "/v1/keys", "application/json",
		`{"api_id":"`+f.api.ID+`","subject":"s","metadata":null}`, "")
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var k api.CreatedKey
	if err := json.Unmarshal([]byte(body), &k); err != nil {
		t.Fatal(err)
	}
	_, _, shown := f.rawBody(t, "GET", "/v1/keys/"+k.Key.ID, "", "", "")
	_, _, verified := f.rawBody(t, "POST", "/v1/verify", "application/json", `{"token":"`+k.Secret+`"}`, "")
	for name, b := range map[string]string{"create": body, "show": shown, "verify": verified} {
		if strings.Contains(b, `"metadata"`) {
			t.Errorf("%s answer holds metadata: %s", name, b)
		}
	}
}

// TestAuditCreationHasNoZeroTime checks that the after of a creation
// event holds no zero time (the views clear updated_at so that it stays
// out of diffs; a creation used to record it as 0001-01-01).
func TestAuditCreationHasNoZeroTime(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.key(t, api.CreateKeyRequest{})
	l, err := f.Client.ListAudit(ctx, auditAll())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range l.Events {
		seen[e.Action] = true
		if strings.Contains(string(e.After), "0001-01-01") || strings.Contains(string(e.Before), "0001-01-01") {
			t.Errorf("%s event holds a zero time: before %s after %s", e.Action, e.Before, e.After)
		}
	}
	if !seen["api.create"] || !seen["key.create"] {
		t.Errorf("events %v lack api.create or key.create", seen)
	}
}

// TestNoOpPatchWritesNothing: a PATCH of a key or an API that changes
// nothing ({}, or the values it has) answers 200 with the record as it
// was, and writes no audit event and no new updated_at.
func TestNoOpPatchWritesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	count := func() int {
		l, err := f.Client.ListAudit(ctx, auditAll())
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Events)
	}
	before := count()
	for _, c := range []struct{ path, body, was string }{
		{"/v1/keys/" + k.Key.ID, `{}`, k.Key.UpdatedAt.Format(time.RFC3339Nano)},
		{"/v1/keys/" + k.Key.ID, `{"scopes":["read"],"subject":"cust_1","expires_at":null,"enabled":true}`, k.Key.UpdatedAt.Format(time.RFC3339Nano)},
		{"/v1/apis/" + f.api.ID, `{}`, f.api.UpdatedAt.Format(time.RFC3339Nano)},
		{"/v1/apis/" + f.api.ID, `{"name":"Payments","scopes":["read","write"]}`, f.api.UpdatedAt.Format(time.RFC3339Nano)},
	} {
		resp, _, body := f.rawBody(t, "PATCH", c.path, "application/json", c.body, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"updated_at":"`+c.was+`"`) {
			t.Errorf("PATCH %s %s: %d %s, want 200 with updated_at %s", c.path, c.body, resp.StatusCode, body, c.was)
		}
	}
	if after := count(); after != before {
		t.Errorf("no-op PATCHes wrote %d audit events", after-before)
	}
	// A real change still writes one.
	if _, err := f.Client.UpdateKey(ctx, k.Key.ID, api.UpdateKeyRequest{Name: new("CI")}); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before+1 {
		t.Errorf("a change wrote %d audit events, want 1", after-before)
	}
}
