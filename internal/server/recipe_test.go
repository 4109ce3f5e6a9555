package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/httpsig"
)

// TestSignedRequestRecipe runs the Python recipe of docs/signed-requests.md
// against a resource server that checks the body's digest and asks tokend
// to verify the token and the signature, as the docs tell one to.
func TestSignedRequestRecipe(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the recipe of docs/signed-requests.md is not run")
	}
	doc, err := os.ReadFile("../../docs/signed-requests.md")
	if err != nil {
		t.Fatal(err)
	}
	_, script, ok := strings.Cut(string(doc), "```python\n")
	script, _, ok2 := strings.Cut(script, "```")
	if !ok || !ok2 {
		t.Fatal("docs/signed-requests.md has no python block")
	}
	f := newSignedFixture(t)
	k := f.key(t, &api.KeySigningRequest{Alg: api.SigHMACSHA256})
	// The script signs with the real clock; bring the server's to it.
	f.Clock.Advance(time.Since(f.Clock.Now()))
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := &httpsig.Message{Method: r.Method, TargetURI: "http://" + r.Host + r.RequestURI, Header: r.Header, HasBody: len(body) > 0}
		if err := httpsig.CheckDigest(m, body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := f.Client.Verify(r.Context(), api.VerifyRequest{Token: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
			Request: &api.SignedRequest{Method: m.Method, TargetURI: m.TargetURI, Headers: r.Header, HasBody: m.HasBody}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(res)
	}))
	defer rs.Close()
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(os.Environ(), "URL="+rs.URL+"/v1/charges?idem=7", "TOKEN="+k.Secret, "KEY_ID="+k.Key.ID, "SIGNING_SECRET="+k.SigningSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 recipe: %v\n%s", err, out)
	}
	var res api.VerifyResponse
	if err := json.Unmarshal(out, &res); err != nil || res.Code != api.CodeValid {
		t.Errorf("the recipe's request verified as %s (%s), %v: %s", res.Code, res.Problem, err, out)
	}
}
