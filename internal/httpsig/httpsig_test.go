package httpsig

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRFC9421HMACVector checks the signature base and HMAC of RFC 9421
// Appendix B.2.5 ("test-shared-secret"), which covers fields and
// @authority and has no nonce, so only the crypto is checked here.
func TestRFC9421HMACVector(t *testing.T) {
	secret, _ := base64.StdEncoding.DecodeString("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==")
	m := &Message{Method: "POST", TargetURI: "https://example.com/foo?param=Value&Pet=dog", Header: map[string][]string{
		"Date":            {"Tue, 20 Apr 2021 02:07:55 GMT"},
		"Content-Type":    {"application/json"},
		"Signature-Input": {`sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"`},
		"Signature":       {"sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"},
	}}
	sig, err := Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base(m, sig.Components, sig.params)
	if err != nil {
		t.Fatal(err)
	}
	want := "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@authority\": example.com\n\"content-type\": application/json\n" +
		"\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""
	if string(b) != want {
		t.Fatalf("base =\n%s\nwant\n%s", b, want)
	}
	k := &Key{ID: "test-shared-secret", Alg: AlgHMACSHA256, Secret: secret}
	if !k.check(b, sig.Sig) {
		t.Error("the RFC's signature does not verify")
	}
}

type fixture struct {
	now    time.Time
	v      *Verifier
	hmac   *Key
	ed     *Key
	ec     *Key
	body   []byte
	target string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	epub, epriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f := &fixture{now: now, body: []byte(`{"amount":100}`), target: "https://api.example.com/v1/pay?x=1",
		hmac: &Key{ID: "key_h", Alg: AlgHMACSHA256, Secret: []byte("0123456789abcdef0123456789abcdef")},
		ed:   &Key{ID: "key_e", Alg: AlgEd25519, Public: epub, Private: epriv},
		ec:   &Key{ID: "key_p", Alg: AlgECDSAP256, Public: &ec.PublicKey, Private: ec},
	}
	f.v = &Verifier{Now: func() time.Time { return f.now }, Nonces: newMemory(100, func() time.Time { return f.now })}
	return f
}

// signed returns a request signed by k, with changes applied after signing.
func (f *fixture) signed(t *testing.T, k *Key, o SignOptions, after func(*Message)) *Message {
	t.Helper()
	m := &Message{Method: "POST", TargetURI: f.target, HasBody: true,
		Header: map[string][]string{"Content-Digest": {Digest(f.body)}, "Content-Type": {"application/json"}}}
	if o.Created.IsZero() {
		o.Created = f.now
	}
	in, sig, err := Sign(m, k, o)
	if err != nil {
		t.Fatal(err)
	}
	m.Header["Signature-Input"], m.Header["Signature"] = []string{in}, []string{sig}
	if after != nil {
		after(m)
	}
	return m
}

func (f *fixture) verify(m *Message, k *Key, body []byte) error {
	sig, err := Parse(m)
	if err != nil {
		return err
	}
	if err := f.v.Verify(context.Background(), m, sig, k); err != nil {
		return err
	}
	if m.HasBody {
		return CheckDigest(m, body)
	}
	return nil
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, k := range []*Key{f.hmac, f.ed, f.ec} {
		t.Run(k.Alg, func(t *testing.T) {
			m := f.signed(t, k, SignOptions{}, nil)
			if err := f.verify(m, k, f.body); err != nil {
				t.Fatalf("Verify = %v", err)
			}
			err := f.verify(m, k, f.body)
			if e, ok := errors.AsType[*Error](err); !ok || e.Reason != ReasonReplay {
				t.Errorf("second Verify = %v, want a replay", err)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	pathOnly := []string{"@method", "@authority", "@path", "content-digest"}
	cases := []struct {
		name   string
		key    *Key
		o      SignOptions
		after  func(*Message)
		body   string
		reason Reason
		msg    string
	}{
		{name: "unsigned", after: func(m *Message) { delete(m.Header, "Signature"); delete(m.Header, "Signature-Input") }, reason: ReasonMissing, msg: "not signed"},
		{name: "signature without input", after: func(m *Message) { delete(m.Header, "Signature-Input") }, reason: ReasonMalformed, msg: "without Signature-Input"},
		{name: "wrong signature", after: func(m *Message) {
			m.Header["Signature"] = []string{"sig1=:" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ":"}
		}, reason: ReasonMismatch, msg: "does not verify"},
		{name: "truncated signature", after: func(m *Message) {
			s := m.Header["Signature"][0]
			raw, _ := base64.StdEncoding.DecodeString(s[len("sig1=:") : len(s)-1])
			m.Header["Signature"] = []string{"sig1=:" + base64.StdEncoding.EncodeToString(raw[:16]) + ":"}
		}, reason: ReasonMismatch, msg: "does not verify"},
		{name: "signature not bytes", after: func(m *Message) { m.Header["Signature"] = []string{`sig1="abc"`} }, reason: ReasonMalformed, msg: "byte sequence"},
		{name: "no @method", o: SignOptions{Components: []string{"@target-uri", "content-digest"}}, reason: ReasonCoverage, msg: "@method"},
		{name: "no target", o: SignOptions{Components: []string{"@method", "@path", "content-digest"}}, reason: ReasonCoverage, msg: "@target-uri"},
		{name: "query not covered", o: SignOptions{Components: pathOnly}, reason: ReasonCoverage, msg: "query"},
		{name: "no content-digest", o: SignOptions{Components: []string{"@method", "@target-uri"}}, reason: ReasonCoverage, msg: "content-digest"},
		{name: "covered field absent", o: SignOptions{Components: []string{"@method", "@target-uri", "content-digest", "content-type"}},
			after: func(m *Message) { delete(m.Header, "Content-Type") }, reason: ReasonCoverage, msg: `"content-type" is not in the request`},
		{name: "changed body, old digest", body: `{"amount":1000}`, reason: ReasonDigest, msg: "does not match Content-Digest sha-256"},
		{name: "changed path", after: func(m *Message) { m.TargetURI = "https://api.example.com/v1/refund?x=1" }, reason: ReasonMismatch, msg: "@target-uri"},
		{name: "changed digest", after: func(m *Message) { m.Header["Content-Digest"] = []string{Digest([]byte("other"))} }, reason: ReasonMismatch, msg: "content-digest"},
		{name: "stale", o: SignOptions{Created: time.Unix(1_800_000_000-301, 0)}, reason: ReasonStale, msg: "old"},
		{name: "future", o: SignOptions{Created: time.Unix(1_800_000_000+60, 0)}, reason: ReasonStale, msg: "future"},
		{name: "other key", key: f.ed, reason: ReasonKey, msg: "keyid"},
		{name: "bad input field", after: func(m *Message) { m.Header["Signature-Input"] = []string{"sig1=(\"@method\""} }, reason: ReasonMalformed, msg: "dictionary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := c.key
			if k == nil {
				k = f.hmac
			}
			m := f.signed(t, k, c.o, c.after)
			body := f.body
			if c.body != "" {
				body = []byte(c.body)
			}
			err := f.verify(m, f.hmac, body)
			e, ok := errors.AsType[*Error](err)
			if !ok || e.Reason != c.reason || !strings.Contains(e.Error(), c.msg) {
				t.Errorf("Verify = %v, want reason %d mentioning %q", err, c.reason, c.msg)
			}
		})
	}
}

// TestZeroVerifierConcurrent: a zero Verifier used from many goroutines
// makes its one default nonce store once, and every fresh nonce passes
// exactly once.
func TestZeroVerifierConcurrent(t *testing.T) {
	f := newFixture(t)
	v := &Verifier{Now: func() time.Time { return f.now }}
	ms := make([]*Message, 16)
	for i := range ms {
		ms[i] = f.signed(t, f.hmac, SignOptions{}, nil)
	}
	var wg sync.WaitGroup
	var passed atomic.Int64
	for range 4 {
		for _, m := range ms {
			wg.Go(func() {
				sig, err := Parse(m)
				if err == nil && v.Verify(context.Background(), m, sig, f.hmac) == nil {
					passed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if passed.Load() != int64(len(ms)) {
		t.Errorf("%d verifications passed, want %d (each nonce once)", passed.Load(), len(ms))
	}
}

// TestRepeatedField: a map that holds one field name twice, in different
// cases, is found out, with few names (compared pairwise) and with many
// (through a set); names that only look alike are not.
func TestRepeatedField(t *testing.T) {
	many := func(extra ...string) map[string][]string {
		h := map[string][]string{}
		for i := range 40 {
			h[fmt.Sprintf("X-F-%d", i)] = nil
		}
		for _, k := range extra {
			h[k] = nil
		}
		return h
	}
	for _, tt := range []struct {
		name string
		h    map[string][]string
		want bool
	}{
		{"none", nil, false},
		{"distinct", map[string][]string{"Signature": nil, "Signature-Input": nil, "content-digest": nil}, false},
		{"two cases", map[string][]string{"Signature": nil, "signature": nil}, true},
		{"two non-canonical cases", map[string][]string{"SIGNATURE": nil, "signature": nil}, true},
		{"non-ASCII look-alike", map[string][]string{"signature": nil, "ſignature": nil}, false},
		{"many distinct", many("Signature"), false},
		{"many, two cases", many("Signature", "sIgnature"), true},
	} {
		if _, got := RepeatedField(tt.h); got != tt.want {
			t.Errorf("%s: RepeatedField = %v, want %v", tt.name, got, tt.want)
		}
	}
}
