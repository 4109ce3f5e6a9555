package httpsig_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/ratelimit"
)

func TestMemoryNonces(t *testing.T) {
	m := httpsig.NewMemory(2)
	ctx := context.Background()
	for _, c := range []struct {
		key  string
		want bool
		err  error
	}{{"a", true, nil}, {"a", false, nil}, {"b", true, nil}, {"c", false, httpsig.ErrNoncesFull}} {
		got, err := m.Claim(ctx, c.key, time.Hour)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Claim(%q) = %v, %v; want %v, %v", c.key, got, err, c.want, c.err)
		}
	}
}

// TestMemoryNoncesExpire: an expired nonce makes room and may be claimed
// again.
func TestMemoryNoncesExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		m := httpsig.NewMemory(1)
		if ok, _ := m.Claim(ctx, "a", time.Minute); !ok {
			t.Fatal("first claim refused")
		}
		time.Sleep(time.Minute)
		if ok, err := m.Claim(ctx, "b", time.Minute); !ok || err != nil {
			t.Errorf("Claim after expiry = %v, %v", ok, err)
		}
		time.Sleep(time.Minute)
		if ok, err := m.Claim(ctx, "b", time.Minute); !ok || err != nil {
			t.Errorf("Claim of an expired nonce = %v, %v", ok, err)
		}
		if m.Len() != 1 {
			t.Errorf("Len = %d, want 1", m.Len())
		}
	})
}

// TestNonceAcrossNodes replays one signed request at a second verifier
// (another node) sharing the same Redis: it is refused there.
func TestNonceAcrossNodes(t *testing.T) {
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("TOKEND_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	prefix := "tokend:test:" + rand.Text()[:10] + ":"
	node := func() *httpsig.Verifier {
		r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: url, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return &httpsig.Verifier{Nonces: r}
	}
	a, b := node(), node()
	k := &httpsig.Key{ID: "key_1", Alg: httpsig.AlgHMACSHA256, Secret: []byte("0123456789abcdef0123456789abcdef")}
	m := &httpsig.Message{Method: "GET", TargetURI: "https://api.example.com/items", Header: map[string][]string{}}
	in, sig, err := httpsig.Sign(m, k, httpsig.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m.Header["Signature-Input"], m.Header["Signature"] = []string{in}, []string{sig}
	s, err := httpsig.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(t.Context(), m, s, k); err != nil {
		t.Fatalf("node A: %v", err)
	}
	err = b.Verify(t.Context(), m, s, k)
	if e, ok := errors.AsType[*httpsig.Error](err); !ok || e.Reason != httpsig.ReasonReplay {
		t.Errorf("node B = %v, want a replay", err)
	}
}
