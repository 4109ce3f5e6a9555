package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/oauth"
	"golang.org/x/oauth2"
)

// The benchmarks of issue 10: go test ./internal/oauth -run '^$' -bench 'IDToken|Flows|Userinfo'.

// BenchmarkIDTokenSigning signs an ID token's worth of claims with the
// RS256-2048 key kept for ID tokens and with the ES256 key.
func BenchmarkIDTokenSigning(b *testing.B) {
	e := newEnv(b)
	claims := map[string]any{"iss": e.Issuer, "sub": "usr_x", "aud": "cli_x", "exp": time.Now().Unix(), "iat": time.Now().Unix(),
		"nonce": "n", "auth_time": time.Now().Unix(), "amr": []string{"pwd"}, "at_hash": "abc"}
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Signer.SignWith(alg, claims, "JWT"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFlows compares a whole authorization code flow for a
// signed-in person (authorize, code, token exchange with PKCE, ID token)
// with a client_credentials token, both over HTTP to a real server.
func BenchmarkFlows(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	alice := e.person(b)
	id := e.publicClient(b, "openid read", "authorization_code")
	cfg := oauth2.Config{ClientID: id, Endpoint: oauth2.Endpoint{TokenURL: e.Issuer + "/oauth2/token", AuthURL: e.Issuer + "/oauth2/authorize",
		AuthStyle: oauth2.AuthStyleInParams}, RedirectURL: "https://app.example/cb", Scopes: []string{"openid", "read"}}
	who := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now(), AMR: []string{"pwd"}}
	b.Run("authorization_code", func(b *testing.B) {
		first := true
		for b.Loop() {
			verifier := oauth2.GenerateVerifier()
			u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			f, _ := oauth.ParseForm([]byte(u.RawQuery))
			a, err := e.OAuth.Authorize(ctx, f, testIP)
			if err != nil {
				b.Fatal(err)
			}
			if first {
				if err := e.OAuth.Consent(ctx, auditActor(alice), a, alice); err != nil {
					b.Fatal(err)
				}
				first = false
			}
			if step, err := e.OAuth.Decide(ctx, a, who); step != oauth.StepIssue || err != nil {
				b.Fatalf("Decide = %v %v", step, err)
			}
			to, err := e.OAuth.IssueCode(ctx, a, who)
			if err != nil {
				b.Fatal(err)
			}
			back, _ := url.Parse(to)
			if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				b.Fatal(err)
			}
		}
	})
	c := e.client(b, nil)
	body := url.Values{"grant_type": {"client_credentials"}, "resource": {e.billing.Audience}}.Encode()
	b.Run("client_credentials", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth2/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(c.Client.ID, c.Secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("token: %v %v", err, res)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}

// BenchmarkUserinfo serves userinfo for one JWT access token, beside
// /healthz as the bare handler of the same server.
func BenchmarkUserinfo(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	alice := e.person(b)
	id := e.publicClient(b, "openid profile read", "authorization_code")
	cfg := oauth2.Config{ClientID: id, Endpoint: oauth2.Endpoint{TokenURL: e.Issuer + "/oauth2/token", AuthURL: e.Issuer + "/oauth2/authorize",
		AuthStyle: oauth2.AuthStyleInParams}, RedirectURL: "https://app.example/cb", Scopes: []string{"openid", "profile", "read"}}
	verifier := oauth2.GenerateVerifier()
	u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	f, _ := oauth.ParseForm([]byte(u.RawQuery))
	a, err := e.OAuth.Authorize(ctx, f, testIP)
	if err != nil {
		b.Fatal(err)
	}
	who := oauth.SignedIn{UserID: alice, AuthTime: e.Clock.Now()}
	if err := e.OAuth.Consent(ctx, auditActor(alice), a, alice); err != nil {
		b.Fatal(err)
	}
	to, _ := e.OAuth.IssueCode(ctx, a, who)
	back, _ := url.Parse(to)
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, path, token string }{
		{"userinfo", "/oauth2/userinfo", tok.AccessToken}, {"bare", "/healthz", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, e.URL+tc.path, nil)
					if tc.token != "" {
						req.Header.Set("Authorization", "Bearer "+tc.token)
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil || res.StatusCode != 200 {
						b.Errorf("%s: %v %v", tc.path, err, res)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}
