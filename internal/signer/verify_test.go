package signer

import (
	"errors"
	"testing"
	"time"
)

// signWithKey signs a payload with the key kid, whatever its state, as
// someone holding the private key could.
func signWithKey(t *testing.T, s *Signer, kid string) string {
	t.Helper()
	for _, k := range s.ring.Load().signing {
		if k.kid != kid {
			continue
		}
		tok, err := k.sign([]byte(`{"sub":"alice","n":1}`), "at+jwt")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	t.Fatalf("no private key %s", kid)
	return ""
}

// TestVerifyRefusesPendingKey: a key published ahead of its activation
// has never signed anything, so a token under it is refused until it
// becomes active (review item I1); within ClockSkew of activation it is
// accepted, for nodes whose clocks differ a little.
func TestVerifyRefusesPendingKey(t *testing.T) {
	db, _ := openDB(t)
	c := newClock()
	s := newSigner(t, db, c, ES256)
	k2, err := s.Rotate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tok := signWithKey(t, s, k2.KID)
	if _, err := s.Verify(tok, "at+jwt"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify(token of the pending key) = %v, want ErrUnknownKey", err)
	}
	c.Advance(lead - ClockSkew - time.Second)
	if _, err := s.Verify(tok, "at+jwt"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Verify(token of the pending key) just before the skew allowance = %v, want ErrUnknownKey", err)
	}
	c.Advance(time.Second)
	mustVerify(t, s, tok, 1)
	c.Advance(ClockSkew)
	mustVerify(t, s, tok, 1)
}

// TestVerifyRefusesBytesOutsideBase64URL: Go's base64 decoders skip CR and
// LF even in strict mode, so a token with a newline anywhere used to
// verify; it must not, and neither may padding or the standard alphabet
// (review item I2).
func TestVerifyRefusesBytesOutsideBase64URL(t *testing.T) {
	db, _ := openDB(t)
	s := newSigner(t, db, newClock(), ES256)
	tok := mustSign(t, s, 1)
	mustVerify(t, s, tok, 1)
	dot := len(tok) - len(tok[lastDot(tok):])
	cases := map[string]string{
		"trailing LF":          tok + "\n",
		"trailing CRLF":        tok + "\r\n",
		"LF in the signature":  tok[:dot+5] + "\n" + tok[dot+5:],
		"CR in the header":     tok[:3] + "\r" + tok[3:],
		"padding":              tok + "=",
		"space in the payload": tok[:dot-3] + " " + tok[dot-3:],
	}
	for name, bad := range cases {
		if _, err := s.Verify(bad, "at+jwt"); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify = %v, want ErrMalformed", name, err)
		}
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
