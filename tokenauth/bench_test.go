package tokenauth_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/tokenauth"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func request(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/invoices", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// BenchmarkCachedOpaque is an API key whose VALID answer is cached: the
// in-process cost of Check, and of the whole middleware around a handler
// that does nothing.
func BenchmarkCachedOpaque(b *testing.B) {
	e := newEnv(b, func(c *tokenauth.Config) { c.CacheTTL = tokenauthMaxTTL })
	r := request(e.key(b, nil).Secret)
	req := tokenauth.Requirement{Scopes: []string{"invoices:read"}}
	if _, err := e.auth.Check(r, req); err != nil {
		b.Fatal(err)
	}
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.auth.Check(r, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Middleware", func(b *testing.B) {
		h := e.auth.Require("invoices:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		w := &discard{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
}

const tokenauthMaxTTL = 5 * time.Minute

// BenchmarkJWT verifies one ES256 JWT access token through Check, beside
// the bare signature verification of the same token (SHA-256 and
// ecdsa.Verify with the same key): the difference is this package's
// parsing and checking.
func BenchmarkJWT(b *testing.B) {
	e := newEnv(b, nil)
	tok := token(b, e.oauthClient(b, "jwt", "invoices:read"))
	r := request(tok)
	req := tokenauth.Requirement{Scopes: []string{"invoices:read"}}
	if _, err := e.auth.Check(r, req); err != nil {
		b.Fatal(err)
	}
	// The JWKS may also publish the next key: take the token's.
	var hdr struct{ Kid string }
	raw, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil || json.Unmarshal(raw, &hdr) != nil {
		b.Fatalf("token header: %v", err)
	}
	set := e.Signer.JWKS()
	keys := set.Key(hdr.Kid)
	if len(keys) != 1 {
		b.Fatalf("want one key of kid %q, have %d", hdr.Kid, len(keys))
	}
	pub, ok := keys[0].Key.(*ecdsa.PublicKey)
	if !ok {
		b.Fatalf("the token's key is a %T, want ES256", keys[0].Key)
	}
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	bare := func() {
		d := sha256.Sum256([]byte(tok[:dot]))
		rr, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pub, d[:], rr, ss) {
			b.Fatal("bad signature")
		}
	}
	check := func() {
		if _, err := e.auth.Check(r, req); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("BareSignature", func(b *testing.B) {
		for b.Loop() {
			bare()
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check()
		}
	})
	// Interleaved alternates the two in one loop and reports their ratio,
	// which a machine whose load changes during the run skews far less
	// than two separate runs.
	b.Run("Interleaved", func(b *testing.B) {
		var tBare, tCheck time.Duration
		for b.Loop() {
			t0 := time.Now()
			bare()
			t1 := time.Now()
			check()
			tBare, tCheck = tBare+t1.Sub(t0), tCheck+time.Since(t1)
		}
		b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/op")
		b.ReportMetric(float64(tCheck.Nanoseconds())/float64(b.N), "check-ns/op")
		b.ReportMetric(float64(tCheck)/float64(tBare), "check/bare")
	})
}

// BenchmarkJWTDPoP checks a DPoP-bound JWT access token with a fresh
// proof per request (signature, htm, htu, iat, ath, and the in-process
// replay cache) beside a JWT of the same client sent as a bearer token:
// the difference is the proof's check. Proofs are made before the timer.
func BenchmarkJWTDPoP(b *testing.B) {
	e := newEnv(b, nil)
	key := e.NewDPoPKey(b)
	bound := e.dpopToken(b, "jwt", key)
	plain := request(token(b, e.oauthClient(b, "jwt", "invoices:read")))
	req := tokenauth.Requirement{Scopes: []string{"invoices:read"}}
	dr := httptest.NewRequest("GET", "/invoices", nil) // to http://example.com/invoices
	dr.Header.Set("Authorization", "DPoP "+bound)
	const n = 2048
	proofs := make([]string, 0, n)
	next := func() string {
		if len(proofs) == 0 {
			b.StopTimer()
			for range n {
				proofs = append(proofs, proofOf(b, key, "GET", "http://example.com/invoices", bound, ""))
			}
			b.StartTimer()
		}
		p := proofs[len(proofs)-1]
		proofs = proofs[:len(proofs)-1]
		return p
	}
	bearerCheck := func() {
		if _, err := e.auth.Check(plain, req); err != nil {
			b.Fatal(err)
		}
	}
	dpopCheck := func() {
		dr.Header["Dpop"] = []string{next()}
		if _, err := e.auth.Check(dr, req); err != nil {
			b.Fatal(err)
		}
	}
	bearerCheck()
	dpopCheck()
	b.Run("Bearer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bearerCheck()
		}
	})
	b.Run("DPoP", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dpopCheck()
		}
	})
	// Interleaved alternates the two in one loop and reports their ratio
	// (proof making excluded), as BenchmarkJWT does.
	b.Run("Interleaved", func(b *testing.B) {
		var tBearer, tDPoP time.Duration
		for b.Loop() {
			p := next()
			t0 := time.Now()
			bearerCheck()
			t1 := time.Now()
			dr.Header["Dpop"] = []string{p}
			if _, err := e.auth.Check(dr, req); err != nil {
				b.Fatal(err)
			}
			tBearer, tDPoP = tBearer+t1.Sub(t0), tDPoP+time.Since(t1)
		}
		b.ReportMetric(float64(tBearer.Nanoseconds())/float64(b.N), "bearer-ns/op")
		b.ReportMetric(float64(tDPoP.Nanoseconds())/float64(b.N), "dpop-ns/op")
		b.ReportMetric(float64(tDPoP)/float64(tBearer), "dpop/bearer")
	})
}
