package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/tokend/tokend/internal/store"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openDB(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokend.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

var testKEK = []byte("0123456789abcdef0123456789abcdef")

const (
	lead   = time.Hour
	every  = 30 * 24 * time.Hour
	maxTTL = 2 * time.Hour
)

func newSigner(t testing.TB, db *store.DB, c *clock, alg string) *Signer {
	t.Helper()
	s, err := New(context.Background(), Config{DB: db, KEK: testKEK, Alg: alg, Lead: lead, RotateEvery: every,
		MaxTokenTTL: maxTTL, Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

type claims struct {
	Sub string `json:"sub"`
	N   int    `json:"n"`
}

func mustSign(t testing.TB, s *Signer, n int) string {
	t.Helper()
	tok, err := s.Sign(claims{Sub: "alice", N: n}, "at+jwt")
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func mustVerify(t testing.TB, s *Signer, tok string, n int) {
	t.Helper()
	payload, err := s.Verify(tok, "at+jwt")
	if err != nil {
		t.Fatalf("Verify(token %d): %v", n, err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil || c.N != n {
		t.Fatalf("Verify(token %d) payload %s", n, payload)
	}
}

func decodeHeader(t testing.TB, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignVerify(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			db, _ := openDB(t)
			s := newSigner(t, db, newClock(), alg)
			tok := mustSign(t, s, 1)
			mustVerify(t, s, tok, 1)
			keys := s.JWKS().Keys
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(keys))
			}
			h := decodeHeader(t, tok)
			want := map[string]any{"alg": alg, "kid": keys[0].KeyID, "typ": "at+jwt"}
			if len(h) != len(want) || h["alg"] != want["alg"] || h["kid"] != want["kid"] || h["typ"] != want["typ"] {
				t.Errorf("header = %v, want %v", h, want)
			}
			for _, typ := range []string{"AT+JWT", "application/at+jwt", "Application/AT+jwt"} {
				if _, err := s.Verify(tok, typ); err != nil {
					t.Errorf("Verify(typ %q): %v", typ, err)
				}
			}
			if _, err := s.Verify(tok, "jwt"); !errors.Is(err, ErrWrongType) {
				t.Errorf("Verify(typ jwt): %v, want ErrWrongType", err)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	db, _ := openDB(t)
	_, err := New(t.Context(), Config{DB: db, KEK: []byte("short"), Alg: "HS256", Lead: time.Second, RotateEvery: time.Second})
	if err == nil {
		t.Fatal("New with a bad config succeeded")
	}
	for _, want := range []string{"key-encryption key", "HS256", "lead time", "rotation interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not mention %q", err, want)
		}
	}
}

// forge signs payload with key under the given header values through
// go-jose, as an attacker with their own key would.
func forge(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	// The kid goes in as an extra header: go-jose writes none for HMAC keys.
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign([]byte(`{"sub":"mallory","n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyBadInput(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	s := newSigner(t, db, c, ES256)
	good := mustSign(t, s, 1)
	kid := s.JWKS().Keys[0].KeyID
	pub := s.JWKS().Keys[0]
	pubJSON, _ := pub.MarshalJSON()
	parts := strings.Split(good, ".")
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	hmacKey := append([]byte(nil), pubJSON...)
	ecPub := pub.Key.(*ecdsa.PublicKey)
	ecBytes, _ := ecPub.Bytes()

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "not a token", ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], ErrMalformed},
		{"four parts", good + ".x", ErrMalformed},
		{"truncated signature", good[:len(good)-10], ErrBadSignature},
		{"truncated to header", parts[0] + ".", ErrMalformed},
		{"empty signature", parts[0] + "." + parts[1] + ".", ErrMalformed},
		{"non-canonical base64", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + flipLast(parts[2]), ErrMalformed},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		{"header not JSON", b64("alg") + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"too long", strings.Repeat("a", MaxTokenLen+1), ErrMalformed},
		{"alg none, no signature", b64(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`) + "." + parts[1] + ".", ErrMalformed},
		{"alg none", b64(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], ErrBadSignature},
		{"alg NONE", b64(`{"alg":"NONE","kid":"`+kid+`","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], ErrBadSignature},
		{"HS256 with the public JWK", forge(t, jose.HS256, hmacKey, kid), ErrBadSignature},
		{"HS256 with the public point", forge(t, jose.HS256, ecBytes, kid), ErrBadSignature},
		{"unknown kid", forge(t, jose.ES256, otherEC, "nope"), ErrUnknownKey},
		{"no kid", b64(`{"alg":"ES256","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"right kid, foreign key", forge(t, jose.ES256, otherEC, kid), ErrBadSignature},
		{"wrong key type for alg (RS256 on an EC key)", forge(t, jose.RS256, otherRSA, kid), ErrBadSignature},
		{"wrong key type for alg (ES384)", b64(`{"alg":"ES384","kid":"`+kid+`","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2], ErrBadSignature},
		{"embedded jwk", b64(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt","jwk":{}}`) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"crit", b64(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt","crit":["b64"],"b64":false}`) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"header swapped typ", b64(`{"alg":"ES256","kid":"`+kid+`","typ":"jwt"}`) + "." + parts[1] + "." + parts[2], ErrBadSignature},
		{"payload swapped", parts[0] + "." + b64(`{"sub":"mallory","n":1}`) + "." + parts[2], ErrBadSignature},
		{"wrong typ", mustSignTyp(t, s, "JWT"), ErrWrongType},
		{"no typ", mustSignTyp(t, s, ""), ErrWrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := s.Verify(tt.token, "at+jwt")
			if !errors.Is(err, tt.want) || payload != nil {
				t.Errorf("Verify = %q, %v; want nil, %v", payload, err, tt.want)
			}
		})
	}
}

func mustSignTyp(t testing.TB, s *Signer, typ string) string {
	t.Helper()
	tok, err := s.Sign(claims{Sub: "alice"}, typ)
	if err != nil {
		t.Fatal(err)
	}
	if typ == "" {
		// go-jose omits an empty typ; check it really is absent.
		if _, ok := decodeHeader(t, tok)["typ"]; ok {
			t.Fatal("empty typ was written")
		}
	}
	return tok
}

// flipLast returns the last character of a base64url string with its
// unused low bits set, a non-canonical spelling of the same bytes.
func flipLast(p string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, p[len(p)-1])
	return string(alphabet[i|1])
}

// TestVerifyMixedAlgorithms checks that with keys of several types
// published, a token cannot name one key with another key's algorithm.
func TestVerifyMixedAlgorithms(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	ec := newSigner(t, db, c, ES256)
	ecTok := mustSign(t, ec, 1)
	ecKID := ec.JWKS().Keys[0].KeyID
	s, err := New(t.Context(), Config{DB: db, KEK: testKEK, Alg: EdDSA, Lead: lead, RotateEvery: every, MaxTokenTTL: maxTTL, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Advance(lead)
	edTok := mustSign(t, s, 2)
	if h := decodeHeader(t, edTok); h["alg"] != EdDSA {
		t.Fatalf("after rotation the header is %v, want EdDSA", h)
	}
	mustVerify(t, s, ecTok, 1)
	mustVerify(t, s, edTok, 2)
	edParts := strings.Split(edTok, ".")
	// The EdDSA signature, labelled as the ES256 key's.
	swapped := b64(`{"alg":"EdDSA","kid":"`+ecKID+`","typ":"at+jwt"}`) + "." + edParts[1] + "." + edParts[2]
	if _, err := s.Verify(swapped, "at+jwt"); !errors.Is(err, ErrBadSignature) {
		t.Errorf("EdDSA token naming the ES256 key: %v, want ErrBadSignature", err)
	}
}

// keyJSON exposes the private JWK "d" member of a key, for tests that
// look for it where it must not be.
type keyJSON struct{ key any }

func (k *keyJSON) marshal() (struct{ D string }, error) {
	var out struct{ D string }
	b, err := (&jose.JSONWebKey{Key: k.key}).MarshalJSON()
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(b, &out)
	return out, err
}
