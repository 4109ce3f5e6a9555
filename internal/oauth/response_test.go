package oauth_test

import (
	"encoding/json"
	"testing"

	"github.com/tokend/tokend/internal/oauth"
)

// TestTokenResponseAppendJSONMatchesEncodingJSON: the token answer the
// endpoint writes by hand is byte for byte what encoding/json wrote.
func TestTokenResponseAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, r := range []oauth.TokenResponse{
		{AccessToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", TokenType: "Bearer", ExpiresIn: 300, Scope: "read write"},
		{AccessToken: "tokend_at_x", TokenType: "Bearer", ExpiresIn: 0},
		{AccessToken: "a", TokenType: "Bearer", ExpiresIn: -1, Scope: "s<&>\"\\", RefreshToken: "tokend_rt_y"},
		{AccessToken: "\u2028\xff\n", TokenType: "", ExpiresIn: 1 << 40, RefreshToken: "r"},
		{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 60, Scope: "openid", RefreshToken: "r", IDToken: "eyJ.e30.x<"},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON(%+v) = %s\nwant %s", r, got, want)
		}
	}
}
