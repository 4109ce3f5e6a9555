package credential

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
)

func TestSplitJWS(t *testing.T) {
	cases := map[string]bool{
		"aGVhZA.cGF5bG9hZA.c2ln":    true,
		"a-_.b.c":                   true,
		"aGVhZA.cGF5bG9hZA.c2ln\n":  false,
		"aGVhZA.cGF5\r\nbG9hZA.c2l": false,
		"aGVhZA=.cGF5bG9hZA.c2ln":   false,
		"aGVh+A.cGF5bG9hZA.c2ln":    false,
		"a.b":                       false,
		"a.b.c.d":                   false,
		"a..c":                      false,
		".b.c":                      false,
		" a.b.c":                    false,
	}
	for tok, want := range cases {
		_, _, _, err := SplitJWS(tok)
		if got := err == nil; got != want {
			t.Errorf("SplitJWS(%q) = %v, want ok %v", tok, err, want)
		}
		if err != nil && !errors.Is(err, ErrMalformedJWT) {
			t.Errorf("SplitJWS(%q) = %v, want ErrMalformedJWT", tok, err)
		}
	}
}

// TestAccessClaimsRoundTrip: what tokend signs is what the decoder reads,
// and one audience encodes as a string (RFC 9068 §2.2 allows both).
func TestAccessClaimsRoundTrip(t *testing.T) {
	c := AccessClaims{Issuer: "https://tokend.example", Subject: "cli_1", Audience: jwt.Audience{"https://pay.example"},
		Expiry: 1767330000, IssuedAt: 1767326400, ID: "j1", ClientID: "cli_1", Scope: "read write"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"iss":"https://tokend.example","sub":"cli_1","aud":"https://pay.example","exp":1767330000,"iat":1767326400,"jti":"j1","client_id":"cli_1","scope":"read write"}`
	if string(b) != want {
		t.Errorf("json.Marshal(claims) = %s\nwant %s", b, want)
	}
	got, err := DecodeAccessClaims(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("DecodeAccessClaims(Marshal(c)) differs (-want +got):\n%s", d)
	}
}

func TestDecodeAccessClaimsRefuses(t *testing.T) {
	const good = `{"iss":"i","sub":"s","aud":["a","b"],"exp":2,"iat":1,"jti":"j","client_id":"c"}`
	if _, err := DecodeAccessClaims([]byte(good)); err != nil {
		t.Fatalf("DecodeAccessClaims(%s) = %v", good, err)
	}
	cases := map[string]string{
		"upper-case name":   `{"ISS":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}`,
		"duplicate name":    `{"iss":"i","iss":"j","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}`,
		"duplicate unknown": `{"x":1,"x":1,"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}`,
		"missing client_id": `{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j"}`,
		"missing aud":       `{"iss":"i","sub":"s","exp":2,"iat":1,"jti":"j","client_id":"c"}`,
		"missing exp":       `{"iss":"i","sub":"s","aud":"a","iat":1,"jti":"j","client_id":"c"}`,
		"huge exp":          `{"iss":"i","sub":"s","aud":"a","exp":1e300,"iat":1,"jti":"j","client_id":"c"}`,
		"string exp":        `{"iss":"i","sub":"s","aud":"a","exp":"2","iat":1,"jti":"j","client_id":"c"}`,
		"aud of numbers":    `{"iss":"i","sub":"s","aud":[1],"exp":2,"iat":1,"jti":"j","client_id":"c"}`,
		"array":             `[1]`,
		"trailing data":     good + `{}`,
	}
	for name, p := range cases {
		if _, err := DecodeAccessClaims([]byte(p)); !errors.Is(err, ErrMalformedJWT) {
			t.Errorf("%s: DecodeAccessClaims(%s) = %v, want ErrMalformedJWT", name, p, err)
		}
	}
}

func TestReserved(t *testing.T) {
	for p, want := range map[string]bool{
		"tokend": true, "tokend_ci": true, "tokendx": true, "tkat": true, "tkat_x": true, "tkrt": true,
		"tkcs": true, "tkrg": true, "tkpt": true, "tkss": true, "tksp": true, "tkia": true,
		"tk": false, "tka": false, "pay": false, "my_tokend": false, "sk_live": false,
	} {
		if got := Reserved(p); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", p, got, want)
		}
	}
}
