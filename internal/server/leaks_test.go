package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/leak"
	"github.com/tokend/tokend/internal/store"
)

const leakURL = "https://github.com/example/app/blob/main/.env"

// report posts a leak report without any credential, as a scanner
// would, and returns the status and body.
func (f *fixture) report(t *testing.T, body string) (*http.Response, string) {
	t.Helper()
	resp, _, b := f.rawBody(t, "POST", "/v1/leaked-tokens", "application/json", body, "none")
	return resp, b
}

func leakBody(token string) string {
	b, _ := json.Marshal(api.LeakReport{Token: token, URL: leakURL})
	return string(b)
}

// lookAlike changes one character of token's random part: the shape of
// a tokend token, with a checksum that no longer matches.
func lookAlike(token string) string {
	i := len(token) - 20
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// TestLeakedTokenRevoked: a live API key, admin key, personal access
// token, opaque and JWT access token reported found in public are
// refused at once; the key and the PAT show the reason "leaked" in the
// management API, and an audit event names the reporter's address and
// the URL. Every report gets the same answer as an unknown token's, and
// no token appears in the log or the audit trail.
func TestLeakedTokenRevoked(t *testing.T) {
	pf := newPATFixture(t)
	f := pf.fixture
	ctx := t.Context()
	key := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	pat := pf.pat(t, pf.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	adminID, admin, err := f.Keys.CreateAdminKey(ctx, audit.Actor{ID: "test"}, "ci", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	opaque := f.oauthClient(t, func(r *api.CreateClientRequest) { r.AccessTokenFormat = "opaque" })
	at, err := f.ccConfig(opaque, "read").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := f.ccConfig(f.oauthClient(t, nil), "read").Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, want := f.report(t, leakBody(credential.Generate("pay"))) // unknown: the answer every report must get
	secrets := []string{key.Secret, pat.Secret, admin, at.AccessToken, jwt.AccessToken}
	// code is what verification says of s: the admin key as the caller
	// of /v1/verify, the others as the token verified.
	code := func(s string) api.Code {
		if s != admin {
			return f.verifyCode(t, s)
		}
		if _, err := f.NewClient(t, admin).Verify(ctx, api.VerifyRequest{Token: key.Secret, Audience: "https://pay.example"}); err != nil {
			return api.CodeRevoked
		}
		return api.CodeValid
	}
	for _, s := range secrets {
		if code(s) == api.CodeRevoked {
			t.Fatalf("%s… revoked before the report", s[:6])
		}
		resp, body := f.report(t, leakBody(s))
		if resp.StatusCode != http.StatusAccepted || body != want {
			t.Errorf("report of %s…: %d %s, want 202 %s", s[:6], resp.StatusCode, body, want)
		}
		if c := code(s); c != api.CodeRevoked {
			t.Errorf("%s… after its report: %s, want REVOKED", s[:6], c)
		}
	}
	if !strings.Contains(want, `"received"`) {
		t.Errorf("receipt %s", want)
	}
	k, err := f.Client.GetKey(ctx, key.Key.ID)
	if err != nil || k.RevokedAt == nil || k.RevokedReason != api.RevokedLeaked {
		t.Errorf("key after the report: %+v %v, want revoked_reason leaked", k, err)
	}
	if a, err := f.Client.GetKey(ctx, adminID.ID); err != nil || a.RevokedReason != api.RevokedLeaked {
		t.Errorf("admin key after the report: %+v %v", a, err)
	}
	p, err := f.Client.GetToken(ctx, pat.Token.ID)
	if err != nil || p.RevokedAt == nil || p.RevokedReason != api.RevokedLeaked {
		t.Errorf("PAT after the report: %+v %v, want revoked_reason leaked", p, err)
	}
	// A second report of a revoked key changes nothing and answers the same.
	before := f.state(t)
	if resp, body := f.report(t, leakBody(key.Secret)); resp.StatusCode != 202 || body != want || f.state(t) != before {
		t.Errorf("second report: %d %s, or it changed something", resp.StatusCode, body)
	}
	evs, err := f.DB.ListEvents(ctx, store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range evs {
		all := string(e.Before) + string(e.After)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("audit event %s holds a reported token", e.Action)
			}
		}
		if e.Actor == leak.Actor {
			seen[e.Action]++
			if e.ClientIP != "127.0.0.1" || !strings.Contains(string(e.After), leakURL) || !strings.Contains(string(e.After), "leaked") {
				t.Errorf("event %s %s: ip %q after %s", e.Action, e.TargetID, e.ClientIP, e.After)
			}
		}
	}
	if seen["key.revoke"] != 2 || seen["pat.revoke"] != 1 || seen["access_token.revoke"] != 2 {
		t.Errorf("leak audit events %v, want key.revoke 2, pat.revoke 1, access_token.revoke 2", seen)
	}
	for _, s := range secrets {
		if strings.Contains(f.Logs.String(), s) {
			t.Errorf("the log holds the reported token %s…", s[:6])
		}
	}
	// The log names what was revoked by its kind: a PAT is no API key.
	for _, w := range []string{`"kind":"api_key","id":"` + key.Key.ID + `"`, `"kind":"personal_access_token","id":"` + pat.Token.ID + `"`} {
		if !strings.Contains(f.Logs.String(), w) {
			t.Errorf("no log line \"leaked credential revoked\" with %s", w)
		}
	}
}

// TestLeakedTokenLookAlikes: look-alikes (a live key with one character
// changed), unknown well-formed tokens, other kinds' prefixes and garbage
// revoke nothing; well-formed reports get the same 202 as a live key's,
// malformed bodies a 400 problem.
func TestLeakedTokenLookAlikes(t *testing.T) {
	f := newFixture(t)
	live := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	client := f.oauthClient(t, nil)
	before := f.state(t)
	_, want := f.report(t, leakBody(credential.Generate("pay")))
	for _, tok := range []string{
		lookAlike(live.Secret),
		strings.ToUpper(live.Secret[:3]) + live.Secret[3:],
		live.Secret[:len(live.Secret)-1],
		live.Secret + "x",
		"pay_" + strings.Repeat("A", 49),
		credential.Generate(credential.PersonalTokenPrefix),
		credential.Generate(credential.AdminKeyPrefix),
		client.Secret, // a client secret is not acted on
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"not a token at all",
	} {
		if resp, body := f.report(t, leakBody(tok)); resp.StatusCode != 202 || body != want {
			t.Errorf("report of %.10q: %d %s, want 202 %s", tok, resp.StatusCode, body, want)
		}
	}
	for _, body := range []string{`{"url":"x"}`, `{"token":""}`, `not json`, `{"token":"x","extra":1}`,
		`{"token":"x","url":"` + strings.Repeat("a", 3000) + `"}`} {
		if resp, b := f.report(t, body); resp.StatusCode != 400 {
			t.Errorf("report %.30q: %d %s, want 400", body, resp.StatusCode, b)
		}
	}
	if f.state(t) != before {
		t.Error("reports of look-alikes and garbage changed the store")
	}
	if code := f.verifyCode(t, live.Secret); code != api.CodeValid {
		t.Errorf("the live key after reports of its look-alikes: %s, want VALID", code)
	}
	if _, err := f.ccConfig(client, "read").Token(t.Context()); err != nil {
		t.Errorf("the client after a report of its secret: %v", err)
	}
}

// TestLeakedTokenFlood: past leak.DefaultLimit reports a minute from one
// address, reports are refused with 429 and Retry-After before anything
// is read, a live key in them stays valid, and the next window accepts
// reports again.
func TestLeakedTokenFlood(t *testing.T) {
	f := newFixture(t)
	live := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	for i := range leak.DefaultLimit {
		if resp, body := f.report(t, leakBody(credential.Generate("pay"))); resp.StatusCode != 202 {
			t.Fatalf("report %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	for _, body := range []string{leakBody(live.Secret), "garbage"} {
		resp, p, _ := f.rawBody(t, "POST", "/v1/leaked-tokens", "application/json", body, "none")
		if resp.StatusCode != 429 || p.Code() != api.ErrRateLimited || resp.Header.Get("Retry-After") == "" ||
			resp.Header.Get("Retry-After") == "0" {
			t.Errorf("report past the limit: %d %+v Retry-After %q, want 429 with Retry-After", resp.StatusCode, p,
				resp.Header.Get("Retry-After"))
		}
	}
	if code := f.verifyCode(t, live.Secret); code != api.CodeValid {
		t.Errorf("a key reported past the limit: %s, want VALID (not acted on)", code)
	}
	f.Clock.Advance(time.Minute)
	if resp, _ := f.report(t, leakBody(live.Secret)); resp.StatusCode != 202 {
		t.Errorf("report in the next window: %d, want 202", resp.StatusCode)
	}
	if code := f.verifyCode(t, live.Secret); code != api.CodeRevoked {
		t.Errorf("key reported in the next window: %s, want REVOKED", code)
	}
}
