package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/servertest"
)

// postJSON posts body as passkey.js does: JSON, from the page's origin.
func (a *agent) postJSON(path, ctype, body string) page {
	a.t.Helper()
	h := http.Header{"Content-Type": {ctype}, "Origin": {a.base}, "Sec-Fetch-Site": {"same-origin"}}
	return a.send(http.MethodPost, path, strings.NewReader(body), h)
}

// wantJSONError fails unless p is a JSON error with the status whose
// message holds text.
func wantJSONError(t *testing.T, what string, p page, status int, text string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if p.status != status || p.header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(p.body), &e) != nil ||
		!strings.Contains(e.Error, text) {
		t.Errorf("%s = %d %s %s, want %d and a JSON error saying %q", what, p.status, p.header.Get("Content-Type"), p.body, status, text)
	}
}

// TestPasskeyEndpoints: the JSON endpoints of passkey.js answer bad input
// with a JSON error and change nothing; the browser tests cover the
// ceremonies that succeed.
func TestPasskeyEndpoints(t *testing.T) {
	s := servertest.New(t)
	newUser(t, s, "tove", alicePW, false)
	anon := newAgent(t, s.LocalhostURL)
	wantJSONError(t, "options without a session", anon.postJSON("/account/passkeys/options", "application/json", "{}"),
		http.StatusUnauthorized, "Sign in again")
	wantJSONError(t, "second-factor options without a session",
		anon.postJSON("/signin/second-factor/passkey/options", "application/json", "{}"), http.StatusUnauthorized, "Sign in again")
	wantRedirect(t, "the passkeys page without a session", anon.get("/account/passkeys"), "/signin?next=%2Faccount%2Fpasskeys")

	a := newAgent(t, s.LocalhostURL)
	a.signIn("tove", alicePW, "/account")
	p := a.postJSON("/account/passkeys/options", "application/json", "{}")
	var start struct {
		Options struct {
			PublicKey struct {
				Challenge string              `json:"challenge"`
				RP        struct{ ID string } `json:"rp"`
			} `json:"publicKey"`
		} `json:"options"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(p.body), &start); p.status != 200 || err != nil || start.State == "" ||
		start.Options.PublicKey.Challenge == "" || start.Options.PublicKey.RP.ID != "localhost" {
		t.Fatalf("registration options = %d %s, want options for rp localhost and a state", p.status, p.body)
	}
	wantJSONError(t, "second-factor options on a full session",
		a.postJSON("/signin/second-factor/passkey/options", "application/json", "{}"), http.StatusUnauthorized, "Sign in again")

	answer := func(credential string) string {
		return `{"state":"` + start.State + `","name":"laptop","credential":` + credential + `}`
	}
	tests := []struct {
		name, ctype, body string
		status            int
		text              string
	}{
		{"a form, not JSON", "application/x-www-form-urlencoded", "state=x", http.StatusUnsupportedMediaType, "as JSON"},
		{"malformed JSON", "application/json", `{"state": "x", `, http.StatusBadRequest, "could not be read"},
		{"an unknown field", "application/json", `{"state": "x", "admin": true}`, http.StatusBadRequest, "could not be read"},
		{"two objects", "application/json", `{} {}`, http.StatusBadRequest, "could not be read"},
		// Read as strictly as every /v1 body (jsonkeys): names as written,
		// none twice, none unknown; inside the credential, none twice.
		{"a field in another case", "application/json", `{"State":"` + start.State + `","credential":{}}`,
			http.StatusBadRequest, `could not be read: unknown field "State" (names are case-sensitive: "state")`},
		{"a field twice", "application/json", `{"state":"x","state":"` + start.State + `","credential":{}}`,
			http.StatusBadRequest, `could not be read: duplicate field "state"`},
		{"a key twice in the credential", "application/json", answer(`{"type":"public-key","type":"public-key"}`),
			http.StatusBadRequest, `could not be read: field "credential" has a duplicate key`},
		{"not UTF-8", "application/json", answer(`{"id":"` + "\xff" + `"}`), http.StatusBadRequest, "could not be read"},
		{"oversized", "application/json", `{"state":"` + strings.Repeat("x", 80<<10) + `"}`, http.StatusRequestEntityTooLarge, "too large"},
		{"not a credential", "application/json", answer(`{"id": 5}`), http.StatusBadRequest, "credential"},
		{"a forged credential", "application/json", answer(`{"id":"AAAA","rawId":"AAAA","type":"public-key",` +
			`"response":{"clientDataJSON":"e30","attestationObject":"oA"}}`), http.StatusBadRequest, "credential"},
	}
	for _, tt := range tests {
		wantJSONError(t, tt.name, a.postJSON("/account/passkeys", tt.ctype, tt.body), tt.status, tt.text)
	}
	wantJSONError(t, "passwordless options with a field", anon.postJSON("/signin/passkey/options", "application/json", `{"next":"/"}`),
		http.StatusBadRequest, `could not be read: unknown field "next"`)
	wantJSONError(t, "passwordless options after their object", anon.postJSON("/signin/passkey/options", "application/json", `{} {}`),
		http.StatusBadRequest, "could not be read")
	wantJSONError(t, "a passwordless answer that is no assertion", anon.postJSON("/signin/passkey", "application/json",
		`{"state":"forged","credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":`+
			`{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA"}}}`),
		http.StatusBadRequest, "credential")
	// A well-formed assertion under a state tokend never gave.
	// clientDataJSON {"type":"webauthn.get",…}; authenticatorData 37 zero bytes.
	assertion := `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"%s",` +
		`"authenticatorData":"%s","signature":"AAAA","userHandle":"AAAA"}}`
	wantJSONError(t, "a passwordless answer under a forged state", anon.postJSON("/signin/passkey", "application/json",
		`{"state":"forged","credential":`+fmt.Sprintf(assertion, "eyJ0eXBlIjogIndlYmF1dGhuLmdldCIsICJjaGFsbGVuZ2UiOiAiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSIsICJvcmlnaW4iOiAiaHR0cDovL2xvY2FsaG9zdCJ9", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")+`}`), http.StatusUnauthorized, "not accepted")
	if anon.cookie() != "" {
		t.Error("a refused passkey sign-in set a session cookie")
	}

	// Another origin's request is refused before any handler runs.
	h := http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}
	if p := a.send(http.MethodPost, "/account/passkeys/options", strings.NewReader("{}"), h); p.status != http.StatusForbidden {
		t.Errorf("cross-origin options = %d, want 403", p.status)
	}
	if p := a.send(http.MethodPost, "/account/passkeys/x/remove", strings.NewReader(""), h); p.status != http.StatusForbidden {
		t.Errorf("cross-origin remove = %d, want 403", p.status)
	}
	wantPage(t, "removing an unknown passkey", a.post("/account/passkeys/pk_nope/remove", url.Values{}), http.StatusNotFound, "no such item")
	wantPage(t, "a name with a control character", a.post("/account/passkeys/pk_nope/rename", url.Values{"name": {"a\x1bb"}}),
		http.StatusBadRequest, "control")
	if ps, err := s.Users.Passkeys(t.Context(), mustUserID(t, s, "tove")); err != nil || len(ps) != 0 {
		t.Errorf("passkeys after bad input = %+v, %v; want none", ps, err)
	}
}
