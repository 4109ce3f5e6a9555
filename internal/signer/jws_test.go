package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// TestSignedTokensVerifyWithGoJose checks the hand-built compact JWS
// against go-jose on its own (not through Verify): every token parses
// and verifies with the published key, and ES256 signatures are R||S,
// 64 bytes, padded, that crypto/ecdsa accepts. Many ES256 tokens are
// signed so that short R or S values (1 in 256 each) occur.
func TestSignedTokensVerifyWithGoJose(t *testing.T) {
	for _, tt := range []struct {
		alg    string
		tokens int
	}{{ES256, 1000}, {EdDSA, 20}, {RS256, 5}} {
		t.Run(tt.alg, func(t *testing.T) {
			db, _ := openDB(t)
			s := newSigner(t, db, newClock(), tt.alg)
			pub := s.JWKS().Keys[0]
			for n := range tt.tokens {
				typ := []string{"at+jwt", ""}[n%2]
				tok, err := s.Sign(claims{Sub: "alice", N: n}, typ)
				if err != nil {
					t.Fatal(err)
				}
				jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.alg)})
				if err != nil {
					t.Fatalf("token %d: go-jose cannot parse %q: %v", n, tok, err)
				}
				if h := jws.Signatures[0].Protected; h.KeyID != pub.KeyID || h.Algorithm != tt.alg || h.ExtraHeaders["typ"] != nilIfEmpty(typ) {
					t.Fatalf("token %d: header %+v", n, h)
				}
				payload, err := jws.Verify(pub.Key)
				if err != nil {
					t.Fatalf("token %d: go-jose does not verify it: %v", n, err)
				}
				if want := `{"sub":"alice","n":` + itoa(n) + `}`; string(payload) != want {
					t.Fatalf("token %d: payload %s, want %s", n, payload, want)
				}
				if tt.alg == ES256 {
					checkES256(t, tok, pub.Key.(*ecdsa.PublicKey))
				}
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// checkES256 verifies the signature of tok as R||S with crypto/ecdsa.
func checkES256(t *testing.T, tok string, pub *ecdsa.PublicKey) {
	t.Helper()
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.Strict().DecodeString(tok[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("ES256 signature is %d bytes (%v), want 64", len(sig), err)
	}
	digest := sha256.Sum256([]byte(tok[:i]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		t.Fatal("crypto/ecdsa does not verify the R||S signature")
	}
}

// TestAppendFixedRS converts crypto/ecdsa's ASN.1 signatures to R||S:
// short integers are left-padded, DER's sign byte is dropped, and
// anything but exactly one SEQUENCE of two integers that fit is refused.
func TestAppendFixedRS(t *testing.T) {
	der := func(r, s []byte, trailing ...byte) []byte {
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1BigInt(new(big.Int).SetBytes(r))
			b.AddASN1BigInt(new(big.Int).SetBytes(s))
		})
		return append(b.BytesOrPanic(), trailing...)
	}
	full := func(c byte) []byte { return []byte(strings.Repeat(string([]byte{c}), 32)) }
	pad := func(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }
	for _, tt := range []struct {
		name string
		der  []byte
		want []byte // nil: refused
	}{
		{"full, high bit set (DER sign byte)", der(full(0xff), full(0x80)), append(full(0xff), full(0x80)...)},
		{"short r", der([]byte{7}, full(0x11)), append(pad([]byte{7}), full(0x11)...)},
		{"short s", der(full(0x22), []byte{1, 2}), append(full(0x22), pad([]byte{1, 2})...)},
		{"r too long", der(append([]byte{1}, full(0x33)...), []byte{1}), nil},
		{"trailing data", der([]byte{1}, []byte{2}, 0), nil},
		{"not a sequence", []byte{0x02, 0x01, 0x01}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendFixedRS([]byte("x"), tt.der, 32)
			if tt.want == nil {
				if err == nil {
					t.Errorf("appendFixedRS = %x, want an error", got)
				}
				return
			}
			if err != nil || string(got) != "x"+string(tt.want) {
				t.Errorf("appendFixedRS = %x, %v; want x||%x", got, err, tt.want)
			}
		})
	}
}

// TestES256IsRFC6979 signs RFC 6979 §A.2.5's message "sample" with its
// P-256 key and checks r and s against the RFC's SHA-256 vector: ES256
// signatures are deterministic, so the same input signs the same twice.
func TestES256IsRFC6979(t *testing.T) {
	hexInt := func(s string) *big.Int {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			t.Fatalf("bad hex %q", s)
		}
		return n
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(),
		hexInt("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721").FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	k := &signingKey{kid: "rfc6979", alg: ES256, priv: priv}
	want := append(hexInt("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716").FillBytes(make([]byte, 32)),
		hexInt("F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8").FillBytes(make([]byte, 32))...)
	for range 2 {
		got, err := k.signature(nil, []byte("sample"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("ES256 signature of \"sample\" = %x, want RFC 6979 §A.2.5's %x", got, want)
		}
	}
}
