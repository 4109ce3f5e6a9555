package server_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestPARClientWithoutCodeGrant: a client that authenticates but holds
// no authorization_code grant (a client_credentials worker) pushes an
// authorization request and gets RFC 6749 §5.2's unauthorized_client,
// as the device authorization endpoint answers; invalid_client would
// tell it that its credentials are wrong.
func TestPARClientWithoutCodeGrant(t *testing.T) {
	f := newFixture(t)
	c := f.oauthClient(t, nil)
	status, body := f.postForm(t, "/oauth2/par", url.Values{"response_type": {"code"},
		"redirect_uri": {"https://app.example/cb"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}, c.Client.ID, c.Secret)
	checkOAuthError(t, status, body, http.StatusBadRequest, "unauthorized_client")
	status, body = f.postForm(t, "/oauth2/par", url.Values{"response_type": {"code"}}, c.Client.ID, "tkcs_wrong")
	checkOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}
