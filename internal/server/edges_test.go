package server_test

import (
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/ratelimit"
)

// TestFarExpiriesStayValid is the L2 regression: expiries after 2262
// (int64 nanoseconds) made keys EXPIRED at once, with an expires_at in the
// 1700s. Every expiry up to 9999-12-31 and every ttl up to 100 years must
// verify VALID and report the expiry given.
func TestFarExpiriesStayValid(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	end := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	in2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	patched := f.key(t, api.CreateKeyRequest{})
	if _, err := f.Client.UpdateKey(ctx, patched.Key.ID, api.UpdateKeyRequest{ExpiresAt: api.Some(end)}); err != nil {
		t.Fatal(err)
	}
	longAPI, err := f.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Long", Audience: "https://long.example",
		KeyPrefix: "long", Policy: api.Policy{MaxKeyTTL: api.Duration(apikey.MaxTTL)}})
	if err != nil {
		t.Fatal(err)
	}
	capped, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: longAPI.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	now := f.Clock.Now()
	tests := []struct {
		name  string
		token string
		want  time.Time
	}{
		{"expires_at 9999-12-31", f.key(t, api.CreateKeyRequest{ExpiresAt: &end}).Secret, end},
		{"expires_at 2300", f.key(t, api.CreateKeyRequest{ExpiresAt: &in2300}).Secret, in2300},
		{"ttl 100y", f.key(t, api.CreateKeyRequest{TTL: dur(apikey.MaxTTL)}).Secret, now.Add(apikey.MaxTTL)},
		{"PATCH expires_at 9999-12-31", patched.Secret, end},
		{"max_key_ttl 100y", capped.Secret, now.Add(apikey.MaxTTL)},
	}
	for _, tt := range tests {
		r := f.verify(t, api.VerifyRequest{Token: tt.token})
		if r.Code != api.CodeValid || r.Token == nil || r.Token.ExpiresAt == nil || !r.Token.ExpiresAt.Equal(tt.want) {
			t.Errorf("%s: %s, token %+v; want VALID expiring %v", tt.name, r.Code, r.Token, tt.want)
		}
	}
}

// TestTimeAndDurationBoundsRefused checks the maximums that keep every
// time computation in range (L2, L3) and that the zero time is not taken
// for "never" (I9): each is a 400 that changes nothing.
func TestTimeAndDurationBoundsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	k := f.key(t, api.CreateKeyRequest{})
	zero := time.Time{}
	tooLong := api.Duration(apikey.MaxTTL + time.Hour)
	tests := []struct {
		name string
		call func() error
	}{
		{"create expires_at 0001-01-01", func() error {
			_, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.api.ID, Subject: "s", ExpiresAt: &zero})
			return err
		}},
		{"PATCH expires_at 0001-01-01", func() error {
			_, err := f.Client.UpdateKey(ctx, k.Key.ID, api.UpdateKeyRequest{ExpiresAt: api.Some(zero)})
			return err
		}},
		{"ttl over 100y", func() error {
			_, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.api.ID, Subject: "s", TTL: &tooLong})
			return err
		}},
		{"ttl 2562047h", func() error {
			_, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.api.ID, Subject: "s", TTL: dur(2562047 * time.Hour)})
			return err
		}},
		{"max_key_ttl over 100y", func() error {
			_, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &api.Policy{MaxKeyTTL: tooLong}})
			return err
		}},
		{"window over 366d", func() error {
			_, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.api.ID, Subject: "s",
				RateLimits: []api.RateLimit{{Name: "y", Limit: 1, Window: api.Duration(ratelimit.MaxWindow + time.Hour)}}})
			return err
		}},
		{"default window 2562047h", func() error {
			_, err := f.Client.UpdateAPI(ctx, f.api.ID, api.UpdateAPIRequest{Policy: &api.Policy{
				DefaultRateLimits: []api.RateLimit{{Name: "y", Limit: 1, Window: api.Duration(2562047 * time.Hour)}}}})
			return err
		}},
		{"refill interval over 366d", func() error {
			_, err := f.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: f.api.ID, Subject: "s",
				Credits: &api.Credits{Remaining: 1, Refill: &api.Refill{Amount: 1, Interval: api.Duration(367 * 24 * time.Hour)}}})
			return err
		}},
	}
	before := f.state(t)
	for _, tt := range tests {
		if err := tt.call(); problemCode(err) != api.ErrInvalidField {
			t.Errorf("%s: %v, want a %s problem", tt.name, err, api.ErrInvalidField)
		}
	}
	if after := f.state(t); after != before {
		t.Error("a refused request changed the state")
	}
	if got, _ := f.Client.GetKey(ctx, k.Key.ID); got.ExpiresAt != nil {
		t.Errorf("the zero time set expires_at to %v", got.ExpiresAt)
	}
}

// TestYearWindowLimits checks that the longest window accepted limits
// through the server (L3: long windows used to admit everything).
func TestYearWindowLimits(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{RateLimits: []api.RateLimit{{Name: "y", Limit: 2, Window: api.Duration(ratelimit.MaxWindow)}}})
	var got []api.Code
	for range 3 {
		got = append(got, f.verify(t, api.VerifyRequest{Token: k.Secret}).Code)
	}
	if got[0] != api.CodeValid || got[1] != api.CodeValid || got[2] != api.CodeRateLimited {
		t.Errorf("codes %v, want VALID VALID RATE_LIMITED", got)
	}
}
