package credential

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/go-jose/go-jose/v4/jwt"
)

// jsonSamples are strings that exercise every escape encoding/json makes.
var jsonSamples = []string{
	"", "plain", `quote"back\slash`, "nl\ncr\rtab\tbs\bff\f", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029", "héllo wörld ✓ 🙂",
	"bad\xffutf8\xc3", "\xe2\x80", "https://api.example.com/v1?a=1&b=2",
	"read write admin:all", "client_06h0mcvlnp2p1ld5e7dck0ovs0",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := append([]string(nil), jsonSamples...)
	for n := range 4000 {
		// Half of them long runs of mostly safe bytes, for the runs the
		// encoder skips eight at a time.
		b := make([]byte, rng.IntN(12+n%2*60))
		for i := range b {
			if b[i] = byte(rng.IntN(256)); n%2 == 1 && rng.IntN(16) > 0 {
				b[i] = byte('0' + rng.IntN(75))
			}
		}
		samples = append(samples, string(b))
	}
	for _, s := range samples {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAccessClaimsAppendJSONMatchesEncodingJSON(t *testing.T) {
	base := AccessClaims{Issuer: "https://tokend.example", Subject: "client_1", Audience: jwt.Audience{"https://api.example"},
		Expiry: 1764400000, IssuedAt: 1764399700, ID: "JTI234567", ClientID: "client_1", Scope: "read write"}
	for _, tt := range []struct {
		name string
		edit func(*AccessClaims)
	}{
		{"typical", func(*AccessClaims) {}},
		{"no scope", func(c *AccessClaims) { c.Scope = "" }},
		{"dpop bound", func(c *AccessClaims) {
			c.Confirmation = &Confirmation{JKT: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}
		}},
		{"not before", func(c *AccessClaims) { c.NotBefore = 1764399600 }},
		{"two audiences", func(c *AccessClaims) { c.Audience = jwt.Audience{"a", "b<&>"} }},
		{"no audience", func(c *AccessClaims) { c.Audience = nil }},
		{"negative time", func(c *AccessClaims) { c.Expiry = -5 }},
		{"escapes everywhere", func(c *AccessClaims) {
			c.Issuer, c.Subject, c.ID, c.ClientID, c.Scope = "a\"b", "<sub>", "\u2028", "\xff", "x&y"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			want, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AppendJSON(nil); string(got) != string(want) {
				t.Errorf("AppendJSON = %s\nwant %s", got, want)
			}
			back, err := DecodeAccessClaims(c.AppendJSON(nil))
			if tt.name == "no audience" {
				if err == nil {
					t.Error("claims without an audience decoded")
				}
				return
			}
			if err != nil || back.Issuer != c.Issuer || back.Scope != c.Scope || back.Expiry != c.Expiry || back.BoundKey() != c.BoundKey() {
				t.Errorf("DecodeAccessClaims(AppendJSON) = %+v, %v; want %+v", back, err, c)
			}
		})
	}
}
