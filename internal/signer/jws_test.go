package signer

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
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
