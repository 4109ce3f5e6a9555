package server_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/servertest"
)

// fixture is a server with one API whose keys tests create.
type fixture struct {
	*servertest.Server
	api *api.API
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := servertest.New(t)
	a, err := s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Payments", Audience: "https://pay.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "pay", Policy: api.Policy{DynamicClientScopes: []string{"read", "write"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Server: s, api: a}
}

func (f *fixture) key(t *testing.T, req api.CreateKeyRequest) *api.CreatedKey {
	t.Helper()
	req.APIID = f.api.ID
	if req.Subject == "" {
		req.Subject = "cust_1"
	}
	k, err := f.Client.CreateKey(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return k
}

func (f *fixture) verify(t *testing.T, req api.VerifyRequest) *api.VerifyResponse {
	t.Helper()
	r, err := f.Client.Verify(t.Context(), req)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

func dur(d time.Duration) *api.Duration { v := api.Duration(d); return &v }

func TestVerifyCodes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	valid := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}, Metadata: []byte(`{"plan":"pro"}`)})
	disabled := f.key(t, api.CreateKeyRequest{Enabled: new(bool)})
	expiring := f.key(t, api.CreateKeyRequest{TTL: dur(time.Hour)})
	revoked := f.key(t, api.CreateKeyRequest{})
	if _, err := f.Client.RevokeKey(ctx, revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	fenced := f.key(t, api.CreateKeyRequest{AllowedCIDRs: []string{"10.0.0.0/8", "2001:db8::/32"}})
	unknown := "pay_" + valid.Secret[4:len(valid.Secret)-6] + "000000"
	f.Clock.Advance(2 * time.Hour)

	cases := []struct {
		name string
		req  api.VerifyRequest
		want api.Code
	}{
		{"valid", api.VerifyRequest{Token: valid.Secret, Scopes: []string{"read"}, Audience: "https://pay.example"}, api.CodeValid},
		{"bad checksum", api.VerifyRequest{Token: unknown}, api.CodeNotFound},
		{"garbage", api.VerifyRequest{Token: "hello"}, api.CodeNotFound},
		{"wrong audience", api.VerifyRequest{Token: valid.Secret, Audience: "https://other.example"}, api.CodeNotFound},
		{"disabled", api.VerifyRequest{Token: disabled.Secret}, api.CodeDisabled},
		{"expired", api.VerifyRequest{Token: expiring.Secret}, api.CodeExpired},
		{"revoked", api.VerifyRequest{Token: revoked.Secret}, api.CodeRevoked},
		{"ip inside v4", api.VerifyRequest{Token: fenced.Secret, ClientIP: "10.9.8.7"}, api.CodeValid},
		{"ip inside v6", api.VerifyRequest{Token: fenced.Secret, ClientIP: "2001:db8::42"}, api.CodeValid},
		{"ip outside", api.VerifyRequest{Token: fenced.Secret, ClientIP: "192.0.2.1"}, api.CodeForbiddenIP},
		{"ip missing", api.VerifyRequest{Token: fenced.Secret}, api.CodeForbiddenIP},
		{"scope missing", api.VerifyRequest{Token: valid.Secret, Scopes: []string{"read", "write"}}, api.CodeInsufficientScope},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.verify(t, c.req)
			if r.Code != c.want || r.Valid != (c.want == api.CodeValid) {
				t.Fatalf("code = %s valid = %v, want %s", r.Code, r.Valid, c.want)
			}
			if c.want == api.CodeValid && (r.Token == nil || r.Token.Subject != "cust_1" || r.Token.Kind != "api_key") {
				t.Errorf("token = %+v", r.Token)
			}
		})
	}
	r := f.verify(t, api.VerifyRequest{Token: valid.Secret})
	if string(r.Token.Metadata) != `{"plan":"pro"}` || r.Token.APIID != f.api.ID {
		t.Errorf("metadata = %s, api = %s", r.Token.Metadata, r.Token.APIID)
	}
}

func TestCheckOrder(t *testing.T) {
	f := newFixture(t)
	// A disabled, revoked, fenced key without the scope: the first failing
	// check in DESIGN §3 order decides the code.
	k := f.key(t, api.CreateKeyRequest{Enabled: new(bool), AllowedCIDRs: []string{"10.0.0.0/8"}})
	f.Client.RevokeKey(t.Context(), k.Key.ID)
	req := api.VerifyRequest{Token: k.Secret, Scopes: []string{"write"}, ClientIP: "192.0.2.1"}
	if r := f.verify(t, req); r.Code != api.CodeDisabled {
		t.Errorf("disabled+revoked+ip+scope: %s, want DISABLED", r.Code)
	}
	f.Client.UpdateKey(t.Context(), k.Key.ID, api.UpdateKeyRequest{Enabled: new(true)})
	if r := f.verify(t, req); r.Code != api.CodeRevoked {
		t.Errorf("revoked+ip+scope: %s, want REVOKED", r.Code)
	}
	k2 := f.key(t, api.CreateKeyRequest{AllowedCIDRs: []string{"10.0.0.0/8"}})
	req.Token = k2.Secret
	if r := f.verify(t, req); r.Code != api.CodeForbiddenIP {
		t.Errorf("ip+scope: %s, want FORBIDDEN_IP", r.Code)
	}
}

func TestRateLimitsTogether(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{RateLimits: []api.RateLimit{
		{Name: "second", Limit: 100, Window: api.Duration(time.Second)},
		{Name: "minute", Limit: 3, Window: api.Duration(time.Minute)}}})
	for i := range 3 {
		r := f.verify(t, api.VerifyRequest{Token: k.Secret})
		if r.Code != api.CodeValid || len(r.RateLimits) != 2 || r.RateLimits[1].Remaining != int64(2-i) {
			t.Fatalf("request %d: %s %+v", i+1, r.Code, r.RateLimits)
		}
	}
	r := f.verify(t, api.VerifyRequest{Token: k.Secret})
	if r.Code != api.CodeRateLimited {
		t.Fatalf("4th: %s, want RATE_LIMITED", r.Code)
	}
	// Each limit says its window, and the one that refused how long until
	// it admits again: 3 a minute admit one request every 20 s.
	want := []api.RateLimitState{
		{Name: "second", Limit: 100, Remaining: 0, Window: api.Duration(time.Second)},
		{Name: "minute", Limit: 3, Remaining: 0, Window: api.Duration(time.Minute), RetryAfter: api.Duration(20 * time.Second)},
	}
	if diff := cmp.Diff(want, r.RateLimits, cmpopts.IgnoreFields(api.RateLimitState{}, "Reset")); diff != "" {
		t.Errorf("4th: rate limits (-want +got):\n%s", diff)
	}
	// The refused request consumed nothing of "second": after the minute
	// refills one unit, "second" still shows 96 left (100 - 3 - this one).
	f.Clock.Advance(20 * time.Second)
	r = f.verify(t, api.VerifyRequest{Token: k.Secret})
	if r.Code != api.CodeValid || r.RateLimits[0].Remaining != 99 {
		t.Errorf("after refill: %s %+v", r.Code, r.RateLimits)
	}
}

func TestCreditsNeverOverspent(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{Credits: &api.Credits{Remaining: 50}})
	var valid, exceeded atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			r, err := f.Client.Verify(context.Background(), api.VerifyRequest{Token: k.Secret})
			switch {
			case err != nil:
				t.Error(err)
			case r.Code == api.CodeValid:
				valid.Add(1)
			case r.Code == api.CodeUsageExceeded:
				exceeded.Add(1)
			}
		})
	}
	wg.Wait()
	if valid.Load() != 50 || exceeded.Load() != 150 {
		t.Errorf("valid %d, exceeded %d; want 50 and 150", valid.Load(), exceeded.Load())
	}
	got, _ := f.Client.GetKey(t.Context(), k.Key.ID)
	if got.Credits.Remaining != 0 {
		t.Errorf("remaining = %d, want 0", got.Credits.Remaining)
	}
}

func TestCreditsCostAndRefill(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{Credits: &api.Credits{Remaining: 10,
		Refill: &api.Refill{Amount: 10, Interval: api.Duration(24 * time.Hour)}}})
	r := f.verify(t, api.VerifyRequest{Token: k.Secret, Cost: new(int64(7))})
	if r.Code != api.CodeValid || r.Credits.Remaining != 3 {
		t.Fatalf("cost 7: %s %+v", r.Code, r.Credits)
	}
	r = f.verify(t, api.VerifyRequest{Token: k.Secret, Cost: new(int64(4))})
	if r.Code != api.CodeUsageExceeded || r.Credits.Remaining != 3 {
		t.Fatalf("cost 4 of 3: %s %+v", r.Code, r.Credits)
	}
	f.Clock.Advance(24 * time.Hour)
	r = f.verify(t, api.VerifyRequest{Token: k.Secret, Cost: new(int64(4))})
	if r.Code != api.CodeValid || r.Credits.Remaining != 6 {
		t.Errorf("after refill: %s %+v", r.Code, r.Credits)
	}
}

func TestRotationGrace(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	old := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}, RateLimits: []api.RateLimit{
		{Name: "min", Limit: 5, Window: api.Duration(time.Minute)}}})
	f.verify(t, api.VerifyRequest{Token: old.Secret}) // cache it
	rot, err := f.Client.RotateKey(ctx, old.Key.ID, api.RotateKeyRequest{Grace: api.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == old.Secret || rot.Key.ID != old.Key.ID || rot.Key.Scopes[0] != "read" || rot.Key.RateLimits[0].Limit != 5 {
		t.Fatalf("rotated = %+v", rot.Key)
	}
	for _, tok := range []string{old.Secret, rot.Secret} {
		if r := f.verify(t, api.VerifyRequest{Token: tok}); r.Code != api.CodeValid {
			t.Errorf("within grace: %s", r.Code)
		}
	}
	f.Clock.Advance(time.Hour)
	if r := f.verify(t, api.VerifyRequest{Token: old.Secret}); r.Code != api.CodeExpired {
		t.Errorf("old secret after grace: %s, want EXPIRED", r.Code)
	}
	if r := f.verify(t, api.VerifyRequest{Token: rot.Secret}); r.Code != api.CodeValid {
		t.Errorf("new secret after grace: %s", r.Code)
	}
	// Grace 0 ends the old secret at once, even while it is cached.
	rot2, _ := f.Client.RotateKey(ctx, old.Key.ID, api.RotateKeyRequest{})
	if r := f.verify(t, api.VerifyRequest{Token: rot.Secret}); r.Code != api.CodeExpired {
		t.Errorf("previous secret after grace 0: %s, want EXPIRED", r.Code)
	}
	if r := f.verify(t, api.VerifyRequest{Token: rot2.Secret}); r.Code != api.CodeValid {
		t.Errorf("newest secret: %s", r.Code)
	}
	if _, err := f.Client.RotateKey(ctx, old.Key.ID, api.RotateKeyRequest{Grace: api.Duration(8 * 24 * time.Hour)}); problemCode(err) != api.ErrInvalidField {
		t.Errorf("grace of 8 days: %v, want invalid-field", err)
	}
}

func TestRevocationIsImmediate(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{})
	if r := f.verify(t, api.VerifyRequest{Token: k.Secret}); r.Code != api.CodeValid {
		t.Fatal(r.Code)
	}
	if _, err := f.Client.RevokeKey(t.Context(), k.Key.ID); err != nil {
		t.Fatal(err)
	}
	if r := f.verify(t, api.VerifyRequest{Token: k.Secret}); r.Code != api.CodeRevoked {
		t.Errorf("after revoke: %s, want REVOKED (the cache must be dropped before the answer)", r.Code)
	}
	// Settings changes reach the next request too.
	k2 := f.key(t, api.CreateKeyRequest{Scopes: []string{"read"}})
	f.verify(t, api.VerifyRequest{Token: k2.Secret})
	f.Client.UpdateKey(t.Context(), k2.Key.ID, api.UpdateKeyRequest{Scopes: &[]string{}})
	if r := f.verify(t, api.VerifyRequest{Token: k2.Secret, Scopes: []string{"read"}}); r.Code != api.CodeInsufficientScope {
		t.Errorf("after removing the scope: %s", r.Code)
	}
}

func TestVerifyKeyScope(t *testing.T) {
	f := newFixture(t)
	_, vkey, err := f.Keys.CreateAdminKey(t.Context(), adminActor, "verifier", []string{"tokend:verify"})
	if err != nil {
		t.Fatal(err)
	}
	vc := f.NewClient(t, vkey)
	k := f.key(t, api.CreateKeyRequest{})
	if r, err := vc.Verify(t.Context(), api.VerifyRequest{Token: k.Secret}); err != nil || r.Code != api.CodeValid {
		t.Fatalf("verify with a verify-only key: %v %v", r, err)
	}
	_, err = vc.ListKeys(t.Context(), client.ListKeysOptions{})
	if problemCode(err) != api.ErrInsufficientScope {
		t.Errorf("list keys with a verify-only key: %v, want insufficient-scope", err)
	}
}
