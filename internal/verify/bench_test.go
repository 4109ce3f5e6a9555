package verify

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

// benchEngine opens a real SQLite store in a temporary directory, creates
// one API and one key through apikey.Service (with rate limits ls, if
// any), and returns an engine wired as the server wires it, with the
// key's token.
func benchEngine(b *testing.B, ls []api.RateLimit) (*Engine, string) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "tokend.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e := New(Config{DB: db})
	keys := apikey.NewService(apikey.Config{DB: db})
	a, err := keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := keys.CreateKey(ctx, audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "user_1",
		Name: "bench key", Scopes: []string{"read", "write"}, RateLimits: ls})
	if err != nil {
		b.Fatal(err)
	}
	return e, token
}

// benchPAT is benchEngine's setup with a personal access token in place
// of the key: the API lets group "eng" hold read and write, and a user of
// eng holds a token with both.
func benchPAT(b *testing.B) (*Engine, string) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "tokend.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e := New(Config{DB: db})
	keys := apikey.NewService(apikey.Config{DB: db})
	a, err := keys.CreateAPI(ctx, audit.System, api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "bench",
		Policy: api.Policy{UserScopes: []api.UserScopes{{Group: "eng", Scopes: []string{"read", "write"}}}}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := store.User{ID: "usr_bench", Username: "bench", Groups: []string{"eng"}, Enabled: true, Source: api.UserSourceLocal,
		CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u, store.Event{Time: now, Actor: "system", Action: "user.create", TargetType: "user", TargetID: u.ID}); err != nil {
		b.Fatal(err)
	}
	ttl := api.Duration(time.Hour)
	_, token, err := keys.CreatePAT(ctx, audit.System, u.ID, api.CreateTokenRequest{APIID: a.ID, Name: "bench token",
		Scopes: []string{"read", "write"}, TTL: &ttl})
	if err != nil {
		b.Fatal(err)
	}
	return e, token
}

// runVerify warms the cache with one verification, then measures cached
// verifications of req, checking every answer against want.
func runVerify(b *testing.B, e *Engine, req *Request, want api.Code) {
	b.Helper()
	ctx := context.Background()
	var buf [4]ratelimit.State
	res := Result{RateLimits: buf[:0]}
	if err := e.Verify(ctx, req, &res); err != nil || res.Code != want {
		b.Fatalf("warm-up: code %s, err %v; want %s", res.Code, err, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Verify(ctx, req, &res); err != nil || res.Code != want {
			b.Fatalf("code %s, err %v; want %s", res.Code, err, want)
		}
	}
}

// BenchmarkVerifyCached is the hot path: a known, valid token answered
// from the cache. Target: at most 2µs and 5 allocations.
func BenchmarkVerifyCached(b *testing.B) {
	e, token := benchEngine(b, nil)
	runVerify(b, e, &Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1},
		api.CodeValid)
}

// BenchmarkVerifyCachedPAT is BenchmarkVerifyCached for a personal
// access token. Its owner's standing is judged once per cache fill, so a
// cached verification costs what a key's does.
func BenchmarkVerifyCachedPAT(b *testing.B) {
	e, token := benchPAT(b)
	runVerify(b, e, &Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1},
		api.CodeValid)
}

// uncached returns an engine on e's database without a cache: every
// verification is a database lookup.
func uncached(e *Engine) *Engine { return New(Config{DB: e.db, CacheSize: -1}) }

// BenchmarkVerifyUncached and BenchmarkVerifyUncachedPAT are the cache
// miss: one SQLite lookup per verification. A PAT's lookup also joins its
// owner and decodes its API's policy.
func BenchmarkVerifyUncached(b *testing.B) {
	e, token := benchEngine(b, nil)
	runVerify(b, uncached(e), &Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1},
		api.CodeValid)
}

func BenchmarkVerifyUncachedPAT(b *testing.B) {
	e, token := benchPAT(b)
	runVerify(b, uncached(e), &Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1},
		api.CodeValid)
}

// BenchmarkVerifyCachedRateLimited adds one rate limit, high enough that
// every request stays VALID.
func BenchmarkVerifyCachedRateLimited(b *testing.B) {
	e, token := benchEngine(b, []api.RateLimit{{Name: "huge", Limit: 1 << 40, Window: api.Duration(time.Second)}})
	req := &Request{Token: token, Audience: "https://bench.example", Scopes: []string{"read"}, Cost: 1}
	runVerify(b, e, req, api.CodeValid)
}

// BenchmarkVerifyBadChecksum is a mistyped token: refused by the checksum,
// before any hashing or lookup.
func BenchmarkVerifyBadChecksum(b *testing.B) {
	e, token := benchEngine(b, nil)
	bad := []byte(token)
	if bad[len(bad)-1] == 'A' {
		bad[len(bad)-1] = 'B'
	} else {
		bad[len(bad)-1] = 'A'
	}
	runVerify(b, e, &Request{Token: string(bad), Cost: 1}, api.CodeNotFound)
}

// BenchmarkSHA256Baseline is the floor of a cached verification: hashing
// the same token once. The token is copied into a stack buffer, as
// credential.Hash does, so that the figure is the hash alone.
func BenchmarkSHA256Baseline(b *testing.B) {
	_, token := benchEngine(b, nil)
	var buf [credential.MaxTokenLen]byte
	var sum [32]byte
	b.ReportAllocs()
	for b.Loop() {
		sum = sha256.Sum256(append(buf[:0], token...))
	}
	_ = sum
}
