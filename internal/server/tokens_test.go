package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// patFixture is the standard fixture whose API lets group "eng" hold
// read and write and everyone read in personal access tokens, for at
// most 30 days; alice is in eng, bob in no group.
type patFixture struct {
	*fixture
	alice, bob *api.CreatedUser
}

func newPATFixture(t *testing.T) *patFixture {
	t.Helper()
	f := newFixture(t)
	ctx := t.Context()
	p := api.Policy{UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"read", "write"}},
		{Everyone: true, Scopes: []string{"read"}}}, PATMaxTTL: api.Duration(30 * 24 * time.Hour)}
	if _, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatalf("UpdateAPI(policy): %v", err)
	}
	pf := &patFixture{fixture: f}
	var err error
	if pf.alice, err = f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Groups: []string{"eng"}, Password: userPassword}); err != nil {
		t.Fatal(err)
	}
	if pf.bob, err = f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "bob", Password: userPassword}); err != nil {
		t.Fatal(err)
	}
	return pf
}

func ttl(d time.Duration) *api.Duration { v := api.Duration(d); return &v }

func (f *patFixture) pat(t *testing.T, owner string, req api.CreateTokenRequest) *api.CreatedToken {
	t.Helper()
	if req.APIID == "" {
		req.APIID = f.api.ID
	}
	if req.Name == "" {
		req.Name = "ci"
	}
	if req.TTL == nil && req.ExpiresAt == nil {
		req.TTL = ttl(10 * 24 * time.Hour)
	}
	c, err := f.Client.CreateUserToken(t.Context(), owner, req)
	if err != nil {
		t.Fatalf("CreateUserToken: %v", err)
	}
	return c
}

// code verifies token for f's API with scopes and returns the answer's code.
func (f *patFixture) code(t *testing.T, token string, scopes ...string) api.Code {
	t.Helper()
	return f.verify(t, api.VerifyRequest{Token: token, Audience: "https://pay.example", Scopes: scopes}).Code
}

func TestPATVerifies(t *testing.T) {
	f := newPATFixture(t)
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read", "write"}, AllowedCIDRs: []string{"10.0.0.0/8"}})
	if !strings.HasPrefix(c.Secret, "tkpt_") || c.Token.Prefix != "tkpt" || c.Token.UserID != f.alice.ID ||
		!strings.HasPrefix(c.Token.ID, "pat_") || c.Token.ExpiringSoon || c.Token.ExpiresAt == nil {
		t.Fatalf("CreateUserToken = %+v, secret %q…", c.Token, c.Secret[:6])
	}
	r := f.verify(t, api.VerifyRequest{Token: c.Secret, Audience: "https://pay.example", Scopes: []string{"write"}, ClientIP: "10.1.2.3"})
	if !r.Valid || r.Token.Kind != "personal_access_token" || r.Token.Subject != f.alice.ID || r.Token.ID != c.Token.ID {
		t.Fatalf("verify(PAT) = %+v %+v, want VALID personal_access_token of alice", r, r.Token)
	}
	for _, tt := range []struct {
		name string
		req  api.VerifyRequest
		want api.Code
	}{
		{"outside the allowlist", api.VerifyRequest{Token: c.Secret, ClientIP: "192.0.2.1"}, api.CodeForbiddenIP},
		{"scope it lacks", api.VerifyRequest{Token: c.Secret, ClientIP: "10.0.0.1", Scopes: []string{"admin"}}, api.CodeInsufficientScope},
		{"another API", api.VerifyRequest{Token: c.Secret, ClientIP: "10.0.0.1", Audience: "tokend"}, api.CodeNotFound},
		{"truncated", api.VerifyRequest{Token: c.Secret[:len(c.Secret)-1], ClientIP: "10.0.0.1"}, api.CodeNotFound},
		{"forged checksum", api.VerifyRequest{Token: flipLast(c.Secret), ClientIP: "10.0.0.1"}, api.CodeNotFound},
		{"forged body", api.VerifyRequest{Token: "tkpt_" + strings.Repeat("A", 43) + c.Secret[len(c.Secret)-6:], ClientIP: "10.0.0.1"}, api.CodeNotFound},
		{"other prefix", api.VerifyRequest{Token: "pay" + c.Secret[4:], ClientIP: "10.0.0.1"}, api.CodeNotFound},
	} {
		if got := f.verify(t, tt.req).Code; got != tt.want {
			t.Errorf("%s: verify = %s, want %s", tt.name, got, tt.want)
		}
	}
	// A PAT cannot authenticate to the management API.
	if _, p := f.raw(t, "GET", "/v1/apis", "", "", "Bearer "+c.Secret); p.Status != 401 {
		t.Errorf("GET /v1/apis with a PAT: %d %s, want 401", p.Status, p.Code())
	}
	// Usage bookkeeping is the same as for keys.
	if err := f.Engine.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := f.Client.GetToken(t.Context(), c.Token.ID)
	if err != nil || got.UsageCount != 1 || got.LastUsedAt == nil {
		t.Errorf("GetToken after one valid use = %+v, %v; want usage_count 1 and last_used_at", got, err)
	}
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'A' {
		b[len(b)-1] = 'B'
	} else {
		b[len(b)-1] = 'A'
	}
	return string(b)
}

// TestPATPolicyRefusals: what the API's policy does not allow is refused
// with a clear error, and changes nothing.
func TestPATPolicyRefusals(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	past := f.Clock.Now().Add(-time.Hour)
	tooLate := f.Clock.Now().Add(31 * 24 * time.Hour)
	cases := []struct {
		name  string
		owner string
		req   api.CreateTokenRequest
		field string
	}{
		{"scope the groups do not grant", f.bob.ID, api.CreateTokenRequest{Scopes: []string{"write"}, TTL: ttl(time.Hour)}, "scopes"},
		{"scope the API lacks", f.alice.ID, api.CreateTokenRequest{Scopes: []string{"admin"}, TTL: ttl(time.Hour)}, "scopes"},
		{"no expiry", f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}}, "expires_at"},
		{"beyond the maximum", f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}, ExpiresAt: &tooLate}, "expires_at"},
		{"ttl beyond the maximum", f.alice.ID, api.CreateTokenRequest{TTL: ttl(31 * 24 * time.Hour)}, "expires_at"},
		{"in the past", f.alice.ID, api.CreateTokenRequest{ExpiresAt: &past}, "expires_at"},
		{"both expiries", f.alice.ID, api.CreateTokenRequest{ExpiresAt: &tooLate, TTL: ttl(time.Hour)}, "ttl"},
		{"no name", f.alice.ID, api.CreateTokenRequest{Name: "-", TTL: ttl(time.Hour)}, "name"},
		{"unknown API", f.alice.ID, api.CreateTokenRequest{APIID: "api_nope", TTL: ttl(time.Hour)}, "api_id"},
		{"tokend:admin on tokend's own API", f.alice.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:admin"}, TTL: ttl(time.Hour)}, "scopes"},
		{"bad cidr", f.alice.ID, api.CreateTokenRequest{AllowedCIDRs: []string{"10.0.0.0/33"}, TTL: ttl(time.Hour)}, "allowed_cidrs"},
	}
	before := f.state(t)
	for _, tt := range cases {
		req := tt.req
		if req.APIID == "" {
			req.APIID = f.api.ID
		}
		switch req.Name {
		case "":
			req.Name = "ci"
		case "-":
			req.Name = ""
		}
		_, err := f.Client.CreateUserToken(ctx, tt.owner, req)
		var p *api.Problem
		if problemCode(err) != api.ErrInvalidField || !asProblem(err, &p) || p.Field != tt.field {
			t.Errorf("%s: CreateUserToken = %v, want invalid-field on %s", tt.name, err, tt.field)
		}
	}
	if _, err := f.Client.CreateUserToken(ctx, "usr_nope", api.CreateTokenRequest{APIID: f.api.ID, Name: "x", TTL: ttl(time.Hour)}); problemCode(err) != api.ErrNotFound {
		t.Errorf("CreateUserToken(unknown user) = %v, want not-found", err)
	}
	if _, err := f.Client.DisableUser(ctx, f.bob.ID); err != nil {
		t.Fatal(err)
	}
	before = f.state(t)
	if _, err := f.Client.CreateUserToken(ctx, f.bob.ID, api.CreateTokenRequest{APIID: f.api.ID, Name: "x", TTL: ttl(time.Hour)}); problemCode(err) != api.ErrConflict {
		t.Errorf("CreateUserToken(disabled user) = %v, want conflict", err)
	}
	// Malformed bodies.
	path := "/v1/users/" + f.alice.ID + "/tokens"
	for name, body := range map[string]string{
		"unknown field":  `{"api_id":"` + f.api.ID + `","name":"x","ttl":"1h","subject":"eve"}`,
		"wrong type":     `{"api_id":"` + f.api.ID + `","name":"x","ttl":"1h","scopes":"read"}`,
		"malformed json": `{"api_id":`,
	} {
		if resp, p := f.raw(t, "POST", path, "application/json", body, ""); resp.StatusCode != 400 || p.Code() != api.ErrBadRequest {
			t.Errorf("%s: POST %s = %d %s, want 400 bad-request", name, path, resp.StatusCode, p.Code())
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// The API's policy itself is checked.
	for name, p := range map[string]api.Policy{
		"group and everyone":   {UserScopes: []api.UserScopes{{Group: "eng", Everyone: true, Scopes: []string{"read"}}}},
		"neither":              {UserScopes: []api.UserScopes{{Scopes: []string{"read"}}}},
		"scope the API lacks":  {UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"admin"}}}},
		"no expiry and a max":  {PATAllowNoExpiry: true, PATMaxTTL: api.Duration(time.Hour)},
		"no expiry, key max":   {PATAllowNoExpiry: true, MaxKeyTTL: api.Duration(time.Hour)},
		"negative pat_max_ttl": {PATMaxTTL: api.Duration(-time.Hour)},
	} {
		if _, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &p}); problemCode(err) != api.ErrInvalidField {
			t.Errorf("UpdateAPI(policy %s) = %v, want invalid-field", name, err)
		}
	}
}

func asProblem(err error, p **api.Problem) bool {
	q, ok := err.(*api.Problem)
	*p = q
	return ok
}

// TestPATNoExpiryWherePolicyAllows: without any maximum and with
// pat_allow_no_expiry, a token may be created without expiry.
func TestPATNoExpiryWherePolicyAllows(t *testing.T) {
	f := newPATFixture(t)
	p := api.Policy{UserScopes: []api.UserScopes{{Everyone: true, Scopes: []string{"read"}}}, PATAllowNoExpiry: true}
	if _, err := f.Client.UpdateAPI(t.Context(), f.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Client.CreateUserToken(t.Context(), f.bob.ID, api.CreateTokenRequest{APIID: f.api.ID, Name: "forever", Scopes: []string{"read"}})
	if err != nil || c.Token.ExpiresAt != nil {
		t.Fatalf("CreateUserToken(no expiry) = %+v, %v; want a token without expiry", c, err)
	}
	if got := f.code(t, c.Secret, "read"); got != api.CodeValid {
		t.Errorf("verify = %s, want VALID", got)
	}
}

// TestPATFollowsItsOwner: a token stops working at once when its owner
// loses the group that granted its scopes, is disabled or is deleted.
func TestPATFollowsItsOwner(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	rw := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read", "write"}})
	ro := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	steps := []struct {
		name   string
		do     func() error
		rw, ro api.Code
	}{
		{"as created", func() error { return nil }, api.CodeValid, api.CodeValid},
		{"group eng removed", func() error { _, err := f.Client.SetUserGroups(ctx, f.alice.ID, []string{"ops"}); return err },
			api.CodeDisabled, api.CodeValid}, // everyone may hold read
		{"group eng back", func() error { _, err := f.Client.SetUserGroups(ctx, f.alice.ID, []string{"eng"}); return err },
			api.CodeValid, api.CodeValid},
		{"policy narrowed", func() error {
			p := api.Policy{UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"read"}}}, PATMaxTTL: api.Duration(30 * 24 * time.Hour)}
			_, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &p})
			return err
		}, api.CodeDisabled, api.CodeValid},
		{"policy grants nobody", func() error {
			_, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &api.Policy{}})
			return err
		}, api.CodeDisabled, api.CodeDisabled},
		{"policy restored", func() error {
			p := api.Policy{UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"read", "write"}}}}
			_, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &p})
			return err
		}, api.CodeValid, api.CodeValid},
		{"owner disabled", func() error { _, err := f.Client.DisableUser(ctx, f.alice.ID); return err },
			api.CodeDisabled, api.CodeDisabled},
		{"owner enabled", func() error {
			_, err := f.Client.UpdateUser(ctx, f.alice.ID, api.UpdateUserRequest{Enabled: new(true)})
			return err
		}, api.CodeValid, api.CodeValid},
		{"owner deleted", func() error { return f.Client.DeleteUser(ctx, f.alice.ID) }, api.CodeNotFound, api.CodeNotFound},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := f.code(t, rw.Secret); got != s.rw {
			t.Errorf("%s: read-write token = %s, want %s", s.name, got, s.rw)
		}
		if got := f.code(t, ro.Secret); got != s.ro {
			t.Errorf("%s: read-only token = %s, want %s", s.name, got, s.ro)
		}
	}
	if _, err := f.Client.ListUserTokens(ctx, f.alice.ID, "", 0); problemCode(err) != api.ErrNotFound {
		t.Errorf("ListUserTokens(deleted user) = %v, want not-found", err)
	}
	if _, err := f.Client.GetToken(ctx, rw.Token.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("GetToken(token of a deleted user) = %v, want not-found", err)
	}
}

// TestPATLifecycle: list with the expiry flag, regenerate with grace,
// revoke, expiry, audit; and keys and tokens stay apart.
func TestPATLifecycle(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	long := f.pat(t, f.alice.ID, api.CreateTokenRequest{Name: "deploys", Scopes: []string{"read"}, TTL: ttl(20 * 24 * time.Hour)})
	short := f.pat(t, f.alice.ID, api.CreateTokenRequest{Name: "laptop", TTL: ttl(3 * 24 * time.Hour)})
	f.pat(t, f.bob.ID, api.CreateTokenRequest{})
	key := f.key(t, api.CreateKeyRequest{Subject: f.alice.ID})

	list, err := f.Client.ListUserTokens(ctx, f.alice.ID, "", 1)
	if err != nil || len(list.Tokens) != 1 || list.NextCursor == "" {
		t.Fatalf("ListUserTokens(limit 1) = %+v, %v", list, err)
	}
	rest, err := f.Client.ListUserTokens(ctx, f.alice.ID, list.NextCursor, 0)
	if err != nil || len(rest.Tokens) != 1 || rest.NextCursor != "" {
		t.Fatalf("ListUserTokens(page 2) = %+v, %v", rest, err)
	}
	soon := map[string]bool{}
	for _, tk := range append(list.Tokens, rest.Tokens...) {
		soon[tk.ID] = tk.ExpiringSoon
	}
	if want := map[string]bool{long.Token.ID: false, short.Token.ID: true}; !mapsEqual(soon, want) {
		t.Errorf("expiring_soon = %v, want %v", soon, want)
	}
	// Keys and tokens stay apart.
	if _, err := f.Client.GetKey(ctx, long.Token.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("GetKey(PAT) = %v, want not-found", err)
	}
	if _, err := f.Client.RevokeKey(ctx, long.Token.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("RevokeKey(PAT) = %v, want not-found", err)
	}
	if _, err := f.Client.RotateKey(ctx, long.Token.ID, api.RotateKeyRequest{}); problemCode(err) != api.ErrNotFound {
		t.Errorf("RotateKey(PAT) = %v, want not-found", err)
	}
	if _, err := f.Client.UpdateKey(ctx, long.Token.ID, api.UpdateKeyRequest{Name: new("x")}); problemCode(err) != api.ErrNotFound {
		t.Errorf("UpdateKey(PAT) = %v, want not-found", err)
	}
	if _, err := f.Client.GetToken(ctx, key.Key.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("GetToken(API key) = %v, want not-found", err)
	}
	if _, err := f.Client.RevokeToken(ctx, key.Key.ID); problemCode(err) != api.ErrNotFound {
		t.Errorf("RevokeToken(API key) = %v, want not-found", err)
	}
	keys, err := f.Client.ListKeys(ctx, clientList(f.api.ID))
	if err != nil || len(keys.Keys) != 1 || keys.Keys[0].ID != key.Key.ID {
		t.Errorf("ListKeys = %+v, %v; want the API key alone", keys, err)
	}

	// Regenerate with grace: both secrets work until the grace ends.
	re, err := f.Client.RegenerateToken(ctx, long.Token.ID, api.RegenerateTokenRequest{Grace: api.Duration(time.Hour)})
	if err != nil || re.Secret == long.Secret || !strings.HasPrefix(re.Secret, "tkpt_") || re.Token.ID != long.Token.ID ||
		!slices.Equal(re.Token.Scopes, []string{"read"}) || !re.Token.ExpiresAt.Equal(*long.Token.ExpiresAt) {
		t.Fatalf("RegenerateToken = %+v, %v", re, err)
	}
	if a, b := f.code(t, long.Secret), f.code(t, re.Secret); a != api.CodeValid || b != api.CodeValid {
		t.Errorf("within the grace: old %s, new %s; want both VALID", a, b)
	}
	if _, err := f.Client.RegenerateToken(ctx, long.Token.ID, api.RegenerateTokenRequest{Grace: api.Duration(8 * 24 * time.Hour)}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("RegenerateToken(grace 8d) = %v, want invalid-field", err)
	}
	f.Clock.Advance(2 * time.Hour)
	if a, b := f.code(t, long.Secret), f.code(t, re.Secret); a != api.CodeExpired || b != api.CodeValid {
		t.Errorf("after the grace: old %s, new %s; want EXPIRED, VALID", a, b)
	}
	// Expiry.
	f.Clock.Advance(3 * 24 * time.Hour)
	if got := f.code(t, short.Secret); got != api.CodeExpired {
		t.Errorf("after its expiry: %s, want EXPIRED", got)
	}
	// Revoke, twice; then regenerate is refused.
	rv, err := f.Client.RevokeToken(ctx, long.Token.ID)
	if err != nil || rv.RevokedAt == nil {
		t.Fatalf("RevokeToken = %+v, %v", rv, err)
	}
	if got := f.code(t, re.Secret); got != api.CodeRevoked {
		t.Errorf("after revoke: %s, want REVOKED", got)
	}
	if again, err := f.Client.RevokeToken(ctx, long.Token.ID); err != nil || !again.RevokedAt.Equal(*rv.RevokedAt) {
		t.Errorf("RevokeToken again = %+v, %v; want the same revocation", again, err)
	}
	if _, err := f.Client.RegenerateToken(ctx, long.Token.ID, api.RegenerateTokenRequest{}); problemCode(err) != api.ErrConflict {
		t.Errorf("RegenerateToken(revoked) = %v, want conflict", err)
	}
	evs, err := f.Client.ListAudit(ctx, auditAll())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs.Events {
		if e.TargetType == "pat" && e.TargetID == long.Token.ID {
			got = append(got, e.Action)
		}
	}
	if want := []string{"pat.revoke", "pat.regenerate", "pat.create"}; !slices.Equal(got, want) {
		t.Errorf("audit of the token = %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPATSecretsNeverLeak: after create, verify, regenerate and revoke,
// no PAT secret is in the logs, the database or any listing.
func TestPATSecretsNeverLeak(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	f.code(t, c.Secret)
	re, err := f.Client.RegenerateToken(ctx, c.Token.ID, api.RegenerateTokenRequest{Grace: api.Duration(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	f.code(t, re.Secret)
	f.raw(t, "GET", "/v1/tokens/"+c.Token.ID+"?token="+re.Secret, "", "", "") // refused, must not be logged
	f.raw(t, "GET", "/v1/apis", "", "", "Bearer "+re.Secret)                  // wrong credential, must not be logged
	if _, err := f.Client.RevokeToken(ctx, c.Token.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Engine.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := f.Client.ListUserTokens(ctx, f.alice.ID, "", 0)
	events, _ := f.Client.ListAudit(ctx, auditAll())
	listing, _ := json.Marshal([]any{list, events})
	f.DB.Close() // checkpoint the WAL into the main file
	dbBytes := readAll(t, f.DBPath, f.DBPath+"-wal")
	for _, secret := range []string{c.Secret, re.Secret} {
		body := secret[len("tkpt_"):]
		for where, text := range map[string][]byte{"logs": []byte(f.Logs.String()), "database": dbBytes, "listings": listing} {
			if bytes.Contains(text, []byte(body)) {
				t.Errorf("the secret %s…%s appears in the %s", secret[:8], secret[len(secret)-4:], where)
			}
		}
	}
	if !strings.Contains(f.Logs.String(), `"path":"/v1/verify"`) {
		t.Error("the access log is missing; the search above proves nothing")
	}
}

// TestPATOwnerScope: the functions a person calls for their own tokens
// (through the "my tokens" page) treat another person's token as not
// found and change nothing.
func TestPATOwnerScope(t *testing.T) {
	f := newPATFixture(t)
	ctx := t.Context()
	aliceActor := audit.Actor{ID: f.alice.ID, IP: "192.0.2.7"}
	bobActor := audit.Actor{ID: f.bob.ID, IP: "192.0.2.8"}
	k, secret, err := f.Keys.CreatePAT(ctx, aliceActor, f.alice.ID, api.CreateTokenRequest{APIID: f.api.ID, Name: "mine",
		Scopes: []string{"write"}, TTL: ttl(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	before := f.state(t)
	for _, owner := range []string{f.bob.ID, ""} {
		if _, err := f.Keys.PAT(ctx, owner, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PAT(owner %q, alice's) = %v, want not found", owner, err)
		}
		if _, err := f.Keys.RevokePAT(ctx, bobActor, owner, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokePAT(owner %q, alice's) = %v, want not found", owner, err)
		}
		if _, _, err := f.Keys.RegeneratePAT(ctx, bobActor, owner, k.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RegeneratePAT(owner %q, alice's) = %v, want not found", owner, err)
		}
		if ks, err := f.Keys.PATs(ctx, owner, "", 10); err == nil && len(ks) != 0 {
			t.Errorf("PATs(owner %q) = %d tokens, want none", owner, len(ks))
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("refused calls changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if got, err := f.Client.GetToken(ctx, k.ID); err != nil || got.End != k.End || got.RevokedAt != nil {
		t.Errorf("alice's token after bob's attempts = %+v, %v; want it unchanged", got, err)
	}
	key := f.key(t, api.CreateKeyRequest{Subject: f.bob.ID})
	before = f.state(t)
	if _, err := f.Keys.RevokePAT(ctx, bobActor, f.bob.ID, key.Key.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokePAT(bob, an API key with subject bob) = %v, want not found", err)
	}
	if after := f.state(t); after != before {
		t.Errorf("refused calls changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if got := f.code(t, secret, "write"); got != api.CodeValid {
		t.Errorf("alice's token after bob's attempts = %s, want VALID", got)
	}
	ks, err := f.Keys.PATs(ctx, f.alice.ID, "", 10)
	if err != nil || len(ks) != 1 || ks[0].ID != k.ID {
		t.Errorf("PATs(alice) = %v, %v; want her token", ks, err)
	}
	if _, err := f.Keys.RevokePAT(ctx, aliceActor, f.alice.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.code(t, secret, "write"); got != api.CodeRevoked {
		t.Errorf("alice's token after she revoked it = %s, want REVOKED", got)
	}
	evs, err := f.Client.ListAudit(ctx, auditAll())
	if err != nil || len(evs.Events) == 0 || evs.Events[0].Action != "pat.revoke" || evs.Events[0].Actor != f.alice.ID {
		t.Errorf("newest audit event = %+v, %v; want pat.revoke by alice", evs.Events[0], err)
	}
}
