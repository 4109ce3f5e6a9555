package dpop

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BenchmarkES256Verify is the floor: one bare ECDSA P-256 verification.
func BenchmarkES256Verify(b *testing.B) {
	k := newECKey(b)
	sum := sha256.Sum256([]byte("payload"))
	sig, _ := ecdsa.SignASN1(rand.Reader, k, sum[:])
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, sum[:], sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkJOSEVerify is an ES256 JWS verified by go-jose with a known
// key: the cost of JOSE parsing on top of the bare verification.
func BenchmarkJOSEVerify(b *testing.B) {
	k := newECKey(b)
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
	jws, _ := s.Sign([]byte(`{"jti":"x","htm":"GET","htu":"https://a.example/","iat":1}`))
	compact, _ := jws.CompactSerialize()
	for b.Loop() {
		o, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Verify(&k.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is a whole RFC 9449 §4.3 check of an ES256 proof with
// ath, including the in-process replay cache. Proofs are made before the
// timer, each with its own jti.
func BenchmarkCheck(b *testing.B) {
	key, _ := NewKey(newECKey(b))
	now := time.Now()
	key.Now = func() time.Time { return now }
	c := New(Config{Now: func() time.Time { return now }})
	const n = 4096
	proofs := make([]string, n)
	for i := range proofs {
		proofs[i], _ = key.Proof("GET", "https://api.example/v1/x", "tok_abc", "")
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if i == n {
			b.StopTimer()
			c = New(Config{Now: func() time.Time { return now }})
			i = 0
			b.StartTimer()
		}
		if _, err := c.Check(ctx, proofs[i], Request{Method: "GET", URL: "https://api.example/v1/x", AccessToken: "tok_abc"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReplayMemory reports the heap the in-process replay cache
// holds per 100,000 proofs.
func BenchmarkReplayMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := NewMemoryReplay(DefaultReplayMax, time.Hour, nil)
		ctx := context.Background()
		for i := range 100_000 {
			sum := sha256.Sum256([]byte(fmt.Sprint(i)))
			m.UseOnce(ctx, string(sum[:16]), time.Minute)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB/100k-proofs")
		runtime.KeepAlive(m)
	}
}
