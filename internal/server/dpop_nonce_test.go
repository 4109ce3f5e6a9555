package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestTokenEndpointNonceWording: the token endpoint, an authorization
// server, asks for a DPoP nonce in its own name, not a resource server's.
func TestTokenEndpointNonceWording(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	proof, err := f.NewDPoPKey(t).Proof("POST", f.Issuer+"/oauth2/token", "", "")
	if err != nil {
		t.Fatal(err)
	}
	status, raw := f.post(t, "/oauth2/token", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"client_credentials"}}.Encode(), func(r *http.Request) {
			r.SetBasicAuth(c.Client.ID, c.Secret)
			r.Header.Set("DPoP", proof)
		})
	checkOAuthError(t, status, raw, 400, "use_dpop_nonce")
	if strings.Contains(string(raw), "resource server") {
		t.Errorf("token endpoint: %s, names a resource server", raw)
	}
}
