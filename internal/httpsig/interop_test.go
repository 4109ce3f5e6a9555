package httpsig_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/httpsig"
)

// node runs testdata/node/interop.js with the npm package
// http-message-signatures (pinned by package-lock.json, installed by npm
// ci on first use), an independent implementation of RFC 9421.
type node struct{ dir string }

var npmOnce sync.Once
var npmErr error

func newNode(t *testing.T) *node {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the RFC 9421 interop test with http-message-signatures needs node and npm (.ci/run installs them)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the RFC 9421 interop test needs it to install http-message-signatures")
	}
	dir, _ := filepath.Abs("testdata/node")
	npmOnce.Do(func() {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--silent")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = err
			t.Logf("npm ci: %s", out)
		}
	})
	if npmErr != nil {
		t.Fatalf("npm ci in %s: %v", dir, npmErr)
	}
	return &node{dir: dir}
}

func (n *node) run(t *testing.T, cmd map[string]any, out any) {
	t.Helper()
	in, _ := json.Marshal(cmd)
	c := exec.Command("node", "interop.js")
	c.Dir = n.dir
	c.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	b, err := c.Output()
	if err != nil {
		t.Fatalf("node interop.js: %v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("node answered %q: %v", b, err)
	}
}

// interopKey is a key in both forms: Go's, and what interop.js takes for
// signing (priv) and verifying (pub).
type interopKey struct {
	key       *httpsig.Key
	priv, pub string
}

func interopKeys(t *testing.T) []interopKey {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	b64 := base64.StdEncoding.EncodeToString(secret)
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	epub, epriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der := func(v any, pub bool) []byte {
		var b []byte
		var err error
		if pub {
			b, err = x509.MarshalPKIXPublicKey(v)
		} else {
			b, err = x509.MarshalPKCS8PrivateKey(v)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []interopKey{
		{&httpsig.Key{ID: "key_hmac", Alg: httpsig.AlgHMACSHA256, Secret: secret}, b64, b64},
		{&httpsig.Key{ID: "key_ed", Alg: httpsig.AlgEd25519, Public: epub, Private: epriv},
			pemOf("PRIVATE KEY", der(epriv, false)), pemOf("PUBLIC KEY", der(epub, true))},
		{&httpsig.Key{ID: "key_ec", Alg: httpsig.AlgECDSAP256, Public: &ec.PublicKey, Private: ec},
			pemOf("PRIVATE KEY", der(ec, false)), pemOf("PUBLIC KEY", der(&ec.PublicKey, true))},
	}
}

// TestInteropNodeSigns: requests signed by http-message-signatures verify
// here, for each algorithm and for both ways of covering the target; the
// same request with a changed body or path does not.
func TestInteropNodeSigns(t *testing.T) {
	n := newNode(t)
	body := []byte(`{"amount":100}`)
	for _, k := range interopKeys(t) {
		for _, fields := range [][]string{
			{"@method", "@target-uri", "content-digest"},
			{"@method", "@authority", "@path", "@query", "content-digest", "content-type"},
		} {
			t.Run(k.key.Alg+"/"+fields[1], func(t *testing.T) {
				req := map[string]any{"method": "POST", "url": "https://api.example.com:8443/v1/pay?a=1&b=two",
					"headers": map[string]string{"content-type": "application/json", "content-digest": httpsig.Digest(body)}}
				var out struct{ Headers map[string]string }
				n.run(t, map[string]any{"op": "sign", "alg": k.key.Alg, "key": k.priv, "keyid": k.key.ID,
					"nonce": rand.Text(), "fields": fields, "request": req}, &out)
				m := &httpsig.Message{Method: "POST", TargetURI: req["url"].(string), HasBody: true, Header: map[string][]string{}}
				for name, v := range out.Headers {
					m.Header[name] = []string{v}
				}
				v := &httpsig.Verifier{}
				sig, err := httpsig.Parse(m)
				if err != nil {
					t.Fatalf("Parse(%v) = %v", out.Headers, err)
				}
				if err := v.Verify(t.Context(), m, sig, k.key); err != nil {
					t.Fatalf("Verify of node's signature = %v (headers %v)", err, out.Headers)
				}
				if err := httpsig.CheckDigest(m, body); err != nil {
					t.Fatalf("CheckDigest = %v", err)
				}
				if err := httpsig.CheckDigest(m, []byte(`{"amount":999}`)); err == nil {
					t.Error("CheckDigest accepts a changed body")
				}
				m.TargetURI = "https://api.example.com:8443/v1/refund?a=1&b=two"
				if err := v.Verify(t.Context(), m, sig, k.key); err == nil || !strings.Contains(err.Error(), "does not verify") {
					t.Errorf("Verify with a changed path = %v, want a mismatch", err)
				}
			})
		}
	}
}

// TestInteropNodeVerifies: requests signed here verify with
// http-message-signatures, and a tampered one does not.
func TestInteropNodeVerifies(t *testing.T) {
	n := newNode(t)
	body := []byte("name=widget&qty=2")
	for _, k := range interopKeys(t) {
		t.Run(k.key.Alg, func(t *testing.T) {
			m := &httpsig.Message{Method: "PUT", TargetURI: "https://api.example.com/v1/items/7?dry-run",
				Header: map[string][]string{"Content-Digest": {httpsig.Digest(body)}}}
			in, sig, err := httpsig.Sign(m, k.key, httpsig.SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			headers := map[string]string{"content-digest": httpsig.Digest(body), "signature-input": in, "signature": sig}
			var out struct {
				OK    bool
				Error string
			}
			n.run(t, map[string]any{"op": "verify", "alg": k.key.Alg, "key": k.pub, "keyid": k.key.ID,
				"request": map[string]any{"method": "PUT", "url": m.TargetURI, "headers": headers}}, &out)
			if !out.OK {
				t.Fatalf("node refuses our signature: %s (headers %v)", out.Error, headers)
			}
			n.run(t, map[string]any{"op": "verify", "alg": k.key.Alg, "key": k.pub, "keyid": k.key.ID,
				"request": map[string]any{"method": "POST", "url": m.TargetURI, "headers": headers}}, &out)
			if out.OK {
				t.Error("node accepts our signature with another method")
			}
		})
	}
}

// TestInteropNodeVerifiesClient: requests signed by the Go client's
// RequestSigner verify with http-message-signatures.
func TestInteropNodeVerifiesClient(t *testing.T) {
	n := newNode(t)
	for _, k := range interopKeys(t) {
		t.Run(k.key.Alg, func(t *testing.T) {
			s := &client.RequestSigner{KeyID: k.key.ID, Alg: k.key.Alg, Secret: k.key.Secret}
			if k.key.Private != nil {
				s.PrivateKey = k.key.Private.(crypto.Signer)
			}
			r, err := http.NewRequest("POST", "https://api.example.com:8443/v1/pay?a=1&b=%20x", strings.NewReader(`{"amount":5}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Sign(r); err != nil {
				t.Fatal(err)
			}
			headers := map[string]string{}
			for name := range r.Header {
				headers[strings.ToLower(name)] = r.Header.Get(name)
			}
			var out struct {
				OK    bool
				Error string
			}
			n.run(t, map[string]any{"op": "verify", "alg": k.key.Alg, "key": k.pub, "keyid": k.key.ID,
				"request": map[string]any{"method": "POST", "url": r.URL.String(), "headers": headers}}, &out)
			if !out.OK {
				t.Fatalf("node refuses the client's signature: %s (headers %v)", out.Error, headers)
			}
		})
	}
}
