package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func TestSealBindsAD(t *testing.T) {
	kek, err := ParseKEK(NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	box, err := Seal(kek, "kid1", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(box, []byte("secret")) {
		t.Errorf("sealed box %x holds the plaintext", box)
	}
	if pt, err := Open(kek, "kid1", box); err != nil || string(pt) != "secret" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := Open(kek, "kid2", box); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Open under another ad = %v, want ErrWrongKEK", err)
	}
	if _, err := Open(bytes.Repeat([]byte{7}, KEKSize), "kid1", box); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Open under another kek = %v, want ErrWrongKEK", err)
	}
	if _, err := Open(kek, "kid1", box[:10]); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Open of a truncated box = %v, want ErrWrongKEK", err)
	}
	box[len(box)-1] ^= 1
	if _, err := Open(kek, "kid1", box); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Open of a modified box = %v, want ErrWrongKEK", err)
	}
	if _, err := Seal(kek[:16], "kid1", []byte("x")); err == nil {
		t.Error("Seal with a 16-byte kek succeeded")
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	kek := make([]byte, KEKSize)
	a, _ := Seal(kek, "x", []byte("same"))
	b, _ := Seal(kek, "x", []byte("same"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal")
	}
}

func TestParseKEK(t *testing.T) {
	k := NewKEK()
	b, err := ParseKEK(" " + k + "\n")
	if err != nil || len(b) != KEKSize {
		t.Fatalf("ParseKEK(NewKEK()) = %d bytes, %v", len(b), err)
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := ParseKEK(bad); err == nil {
			t.Errorf("ParseKEK(%q) succeeded", bad)
		}
	}
}

func TestDerive(t *testing.T) {
	k1, _ := ParseKEK(NewKEK())
	k2, _ := ParseKEK(NewKEK())
	a, b := Derive(k1, "dpop-nonce"), Derive(k1, "dpop-nonce")
	if len(a) != 32 || string(a) != string(b) {
		t.Fatalf("Derive is not a deterministic 32-byte key: %x, %x", a, b)
	}
	if string(Derive(k1, "other")) == string(a) || string(Derive(k2, "dpop-nonce")) == string(a) {
		t.Error("Derive gives one key for two purposes or two KEKs")
	}
}
