package oauth_test

import (
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/servertest"
	"golang.org/x/oauth2"
)

// TestUserCodeGuessesSharedThroughRedis: two nodes with the same Redis
// count an address's wrong device user codes together, so that spreading
// guesses over nodes gains nothing: after the limit on one node, the
// other refuses even a right code from that address, until a minute
// after the last wrong one. Nodes without Redis count each their own.
func TestUserCodeGuessesSharedThroughRedis(t *testing.T) {
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("TOKEND_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: url, Prefix: "tokend:test:" + strings.ToLower(rand.Text()[:10]) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	const ip = "198.51.100.9"
	guess := func(e *env, n int) {
		t.Helper()
		for i := range n {
			_, err := e.OAuth.LookupUserCode(t.Context(), "BBBB-BBB"+string(rune('B'+i%2)), ip)
			if !isOAuthError(err, "invalid_grant") {
				t.Fatalf("wrong code %d: %v, want invalid_grant", i, err)
			}
		}
	}
	for _, shared := range []bool{true, false} {
		o := servertest.Options{}
		if shared {
			o.Failures = r
		}
		a, b := startEnv(t, o), startEnv(t, o)
		code := b.deviceCode(t)
		guess(a, oauth.UserCodeFailures/2)
		guess(b, oauth.UserCodeFailures-oauth.UserCodeFailures/2)
		_, err := b.OAuth.LookupUserCode(t.Context(), code, ip)
		e, limited := errors.AsType[*oauth.Error](err)
		if limited = limited && e.Status == 429; limited != shared {
			t.Errorf("shared %v: a right code after %d wrong ones over two nodes: %v", shared, oauth.UserCodeFailures, err)
		}
		if shared {
			if e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
				t.Errorf("Retry-After %v, want up to a minute", e.RetryAfter)
			}
			if _, err := a.OAuth.LookupUserCode(t.Context(), "BBBB-BBBB", ip); !isOAuthError(err, "temporarily_unavailable") {
				t.Errorf("the other node: %v, want 429 temporarily_unavailable", err)
			}
			b.Clock.Advance(time.Minute)
			if _, err := b.OAuth.LookupUserCode(t.Context(), code, ip); err != nil {
				t.Errorf("a minute after the last wrong code: %v", err)
			}
		}
	}
}

// deviceCode starts a device authorization of a new public client and
// returns its user code.
func (e *env) deviceCode(t *testing.T) string {
	t.Helper()
	id := e.publicClient(t, "openid", "urn:ietf:params:oauth:grant-type:device_code")
	cfg := oauth2.Config{ClientID: id, Endpoint: e.provider(t).Endpoint()}
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	return da.UserCode
}
