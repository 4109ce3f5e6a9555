package oauth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestDPoPInteropNodeClient drives tokend with an independent DPoP
// client: panva's npm package dpop (pinned in testdata/dpop-interop's
// package-lock.json, installed by the test with npm ci into a temporary
// directory). For ES256, PS256, RS256 and Ed25519 keys made by WebCrypto (the
// last signed with alg "Ed25519", RFC 9864's fully-specified name), the
// client gets a token with a proof (and the nonce dance); tokend binds
// the token to the thumbprint the client computes, and /v1/verify
// accepts the client's proof for a resource request. .ci/run makes sure
// node and npm are there; elsewhere the test skips without them.
func TestDPoPInteropNodeClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is absent: the DPoP interoperability test needs Node.js and npm (.ci/run installs them)", tool)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "client.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "dpop-interop", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}

	e := newEnv(t)
	// The node client's proofs carry the real time; so must tokend's clock.
	e.Clock.Advance(time.Until(e.Clock.Now()) * -1)
	c := e.client(t, func(r *api.CreateClientRequest) {
		r.GrantTypes, r.APIScopes = []string{"client_credentials"}, map[string][]string{e.billing.ID: {"read"}}
	})
	const resource = "https://billing.example/v1/invoices"
	run := exec.CommandContext(ctx, "node", "client.mjs", e.URL+"/oauth2/token", c.Client.ID, c.Secret, resource)
	run.Dir = dir
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()
	if err != nil {
		t.Fatalf("node client.mjs: %v\n%s", err, stderr.String())
	}
	n := 0
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); n++ {
		var r struct {
			Alg, JKT, Error string
			Status, Retries int
			TokenType       string `json:"token_type"`
			AccessToken     string `json:"access_token"`
			ResourceProof   string `json:"resource_proof"`
			ProofAlg        string `json:"proof_alg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("client output %q: %v", sc.Text(), err)
		}
		t.Run(r.Alg, func(t *testing.T) {
			if r.Status != 200 || r.TokenType != "DPoP" || r.Retries != 1 {
				t.Fatalf("token request = %d %s %s after %d nonce retries; want 200 DPoP after 1", r.Status, r.TokenType, r.Error, r.Retries)
			}
			if r.ProofAlg != r.Alg {
				t.Errorf("the client's proof has alg %q, want %q", r.ProofAlg, r.Alg)
			}
			if got := jwtClaims(t, r.AccessToken).BoundKey(); got != r.JKT {
				t.Errorf("cnf.jkt = %q, the client's thumbprint is %q", got, r.JKT)
			}
			v, err := e.Client.Verify(t.Context(), api.VerifyRequest{Token: r.AccessToken, Audience: e.billing.Audience,
				DPoP: &api.VerifyDPoP{Proof: r.ResourceProof, Method: "GET", URL: resource}})
			if err != nil || v.Code != api.CodeValid || v.Token.JKT != r.JKT {
				t.Errorf("/v1/verify with the client's proof = %+v, %v; want VALID with its jkt", v, err)
			}
			v, err = e.Client.Verify(t.Context(), api.VerifyRequest{Token: r.AccessToken, Audience: e.billing.Audience})
			if err != nil || v.Code != api.CodeInvalidDPoPProof {
				t.Errorf("/v1/verify of the token alone = %+v, %v; want INVALID_DPOP_PROOF", v, err)
			}
		})
	}
	if n != 4 {
		t.Errorf("the client printed %d results, want 4:\n%s\n%s", n, out, stderr.String())
	}
}
