package credential

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// vector pins the token format: the same prefix and random bytes must give
// the same token, hash and display fragments in every release.
type vector struct {
	Prefix    string `json:"prefix"`
	RandomHex string `json:"random_hex"`
	Token     string `json:"token"`
	SHA256Hex string `json:"sha256_hex"`
	Start     string `json:"start"`
	End       string `json:"end"`
}

func TestVectors(t *testing.T) {
	b, err := os.ReadFile("../../testdata/apikey_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 4 {
		t.Fatalf("only %d vectors", len(vs))
	}
	for _, v := range vs {
		var r [32]byte
		if n, err := hex.Decode(r[:], []byte(v.RandomHex)); err != nil || n != 32 {
			t.Fatalf("bad random_hex %q", v.RandomHex)
		}
		tok := Format(v.Prefix, r)
		if tok != v.Token {
			t.Errorf("Format(%q, %s) = %q, want %q", v.Prefix, v.RandomHex, tok, v.Token)
		}
		if p, ok := Parse(v.Token); !ok || p != v.Prefix {
			t.Errorf("Parse(%q) = %q, %v; want %q, true", v.Token, p, ok, v.Prefix)
		}
		if h := Hash(v.Token); hex.EncodeToString(h[:]) != v.SHA256Hex {
			t.Errorf("Hash(%q) = %x, want %s", v.Token, h, v.SHA256Hex)
		}
		if s, e := Display(v.Token); s != v.Start || e != v.End {
			t.Errorf("Display(%q) = %q, %q; want %q, %q", v.Token, s, e, v.Start, v.End)
		}
	}
}

func TestGenerateParses(t *testing.T) {
	for _, p := range []string{"a", "sk_live", "0123456789abcdef", "tokend"} {
		tok := Generate(p)
		if got, ok := Parse(tok); !ok || got != p {
			t.Errorf("Parse(Generate(%q)) = %q, %v", p, got, ok)
		}
		if len(tok) != len(p)+TailLen {
			t.Errorf("len(Generate(%q)) = %d, want %d", p, len(tok), len(p)+TailLen)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := Generate("sk_live")
	flip := func(i int) string {
		b := []byte(good)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":             "",
		"truncated":         good[:len(good)-1],
		"extended":          good + "0",
		"body char changed": flip(len(good) - 20),
		"checksum changed":  flip(len(good) - 1),
		"upper prefix":      "SK_LIVE" + good[7:],
		"no separator":      strings.Replace(good, "sk_live_", "sk_livex", 1),
		"non-base62":        good[:len(good)-10] + "-" + good[len(good)-9:],
		"long prefix":       strings.Repeat("a", 17) + good[7:],
		"jwt":               "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
	}
	for name, tok := range cases {
		if p, ok := Parse(tok); ok {
			t.Errorf("%s: Parse(%q) = %q, true; want false", name, tok, p)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for p, want := range map[string]bool{
		"sk": true, "sk_live": true, "a1_b2": true, "0123456789abcdef": true,
		"": false, "SK": false, "sk-live": false, "sk live": false, "0123456789abcdefg": false, "é": false,
	} {
		if got := ValidPrefix(p); got != want {
			t.Errorf("ValidPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestHashIsSHA256(t *testing.T) {
	tok := Generate("x")
	if Hash(tok) != sha256.Sum256([]byte(tok)) {
		t.Error("Hash differs from sha256.Sum256")
	}
	long := strings.Repeat("z", 200)
	if Hash(long) != sha256.Sum256([]byte(long)) {
		t.Error("Hash of a long input differs from sha256.Sum256")
	}
}

func BenchmarkParseAndHash(b *testing.B) {
	tok := Generate("sk_live")
	b.ReportAllocs()
	for b.Loop() {
		Parse(tok)
		Hash(tok)
	}
}
