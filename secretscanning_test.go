package tokend_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/servertest"
)

// documentedPatterns reads docs/secret-scanning.md's table: prefix →
// pattern.
func documentedPatterns(t *testing.T) map[string]*regexp.Regexp {
	t.Helper()
	b, err := os.ReadFile("docs/secret-scanning.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z0-9_]+)` \\| [^|]+ \\| `([^`]+)` \\|")
	out := map[string]*regexp.Regexp{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			out[m[1]] = regexp.MustCompile(m[2])
		}
	}
	return out
}

// issuedTokens returns tokens a real tokend issued: an API key (prefix
// bill), its admin key, an OAuth client secret and an opaque access
// token; and, for every other prefix of package credential, a token
// made by the same generator tokend uses.
func issuedTokens(t *testing.T) map[string]string {
	t.Helper()
	s := servertest.New(t)
	ctx := t.Context()
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Billing", Audience: "https://bill.example",
		Scopes: []string{"read"}, KeyPrefix: "bill"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "c", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Client.CreateClient(ctx, api.CreateClientRequest{Name: "worker", AccessTokenFormat: "opaque",
		APIScopes: map[string][]string{a.ID: {"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.Client.ID, c.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("client_credentials: %d %v", resp.StatusCode, err)
	}
	out := map[string]string{"bill": k.Secret, credential.AdminKeyPrefix: s.AdminKey,
		credential.ClientSecretPrefix: c.Secret, credential.AccessTokenPrefix: tr.AccessToken}
	for _, p := range credential.Prefixes() {
		if out[p] == "" {
			out[p] = credential.Generate(p)
		}
	}
	return out
}

// TestSecretScanningPatterns: every prefix tokend owns has a documented
// pattern; the documented patterns, and client.TokenPattern, find real
// tokens in text exactly; client.CheckToken accepts them with their
// prefix, as tokend's own parser does, and refuses every look-alike the
// patterns also match (one character changed, two swapped, random
// strings of the right shape).
func TestSecretScanningPatterns(t *testing.T) {
	patterns := documentedPatterns(t)
	generic := regexp.MustCompile(client.TokenPattern)
	for _, p := range credential.Prefixes() {
		if patterns[p] == nil {
			t.Errorf("docs/secret-scanning.md has no pattern for prefix %q", p)
		}
	}
	for prefix, tok := range issuedTokens(t) {
		re := patterns[prefix]
		if re == nil {
			re = regexp.MustCompile(`\b` + prefix + `_[0-9A-Za-z]{49}\b`) // an API's own prefix, as documented
		}
		text := "export TOKEN=" + tok + "\n# " + strings.Repeat("x", 60) + " my_" + strings.Repeat("A", 40)
		for _, r := range []*regexp.Regexp{re, generic} {
			if got := r.FindAllString(text, -1); len(got) != 1 || got[0] != tok {
				t.Errorf("%s finds %q in a text holding one %s token", r, got, prefix)
			}
		}
		if got, ok := client.CheckToken(tok); !ok || got != prefix {
			t.Errorf("CheckToken(%s…) = %q, %v; want %q, true", tok[:6], got, ok, prefix)
		}
		if p, ok := credential.Parse(tok); !ok || p != prefix {
			t.Errorf("credential.Parse(%s…) = %q, %v", tok[:6], p, ok)
		}
		body := len(prefix) + 1
		for i := body; i < len(tok); i++ {
			for _, c := range []byte{'0', 'a', 'Z'} {
				if tok[i] == c {
					continue
				}
				alike := tok[:i] + string(c) + tok[i+1:]
				if !re.MatchString(alike) {
					t.Fatalf("look-alike %q does not match %s: the test would prove nothing", alike, re)
				}
				if _, ok := client.CheckToken(alike); ok {
					t.Errorf("CheckToken accepts %q, %s with position %d changed", alike, prefix, i)
				}
			}
			if j := i + 1; j < len(tok) && tok[i] != tok[j] {
				if _, ok := client.CheckToken(tok[:i] + tok[j:j+1] + tok[i:i+1] + tok[j+1:]); ok {
					t.Errorf("CheckToken accepts %s with positions %d and %d swapped", prefix, i, j)
				}
			}
		}
	}
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var sb strings.Builder
		sb.WriteString("bill_")
		for range 49 {
			sb.WriteByte(b62[r.IntN(62)])
		}
		s := sb.String()
		if !generic.MatchString(s) {
			t.Fatalf("%q does not match the generic pattern", s)
		}
		if _, ok := client.CheckToken(s); ok {
			t.Errorf("CheckToken accepts the random %q", s)
		}
		if _, ok := credential.Parse(s); ok {
			t.Errorf("credential.Parse accepts the random %q", s)
		}
	}
}
