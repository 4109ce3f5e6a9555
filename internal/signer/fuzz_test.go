package signer

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVerify checks that Verify never panics, fails only with its
// sentinels, and accepts only payloads this signer signed.
func FuzzVerify(f *testing.F) {
	db, _ := openDB(f)
	c := newClock()
	s := newSigner(f, db, c, ES256)
	signed := map[string]bool{}
	for i := range 3 {
		tok := mustSign(f, s, i)
		p, err := s.Verify(tok, "at+jwt")
		if err != nil {
			f.Fatal(err)
		}
		signed[string(p)] = true
		f.Add(tok)
		f.Add(tok[:len(tok)/2])
		f.Add(tok[:strings.LastIndexByte(tok, '.')+1])
	}
	kid := s.JWKS().Keys[0].KeyID
	f.Add(b64(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`) + "." + b64(`{"sub":"x"}`) + ".")
	f.Add(b64(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt"}`) + "." + b64(`{"sub":"x"}`) + ".AAAA")
	f.Add("garbage")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := s.Verify(tok, "at+jwt")
		if err != nil {
			if p != nil {
				t.Fatalf("Verify returned a payload with error %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) &&
				!errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrWrongType) {
				t.Fatalf("Verify error %v wraps no sentinel", err)
			}
			return
		}
		if !signed[string(p)] {
			t.Fatalf("Verify accepted %q, which tokend never signed", p)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range Algorithms {
		b.Run(alg, func(b *testing.B) {
			db, _ := openDB(b)
			s := newSigner(b, db, newClock(), alg)
			cl := claims{Sub: "alice", N: 1}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Sign(cl, "at+jwt"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	db, _ := openDB(b)
	s := newSigner(b, db, newClock(), ES256)
	tok := mustSign(b, s, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Verify(tok, "at+jwt"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
