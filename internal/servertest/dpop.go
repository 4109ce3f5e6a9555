package servertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokend/tokend/dpop"
)

// DPoPTransport is an http.RoundTripper that does what a DPoP client
// does (RFC 9449): every request carries a fresh proof of Key for its
// method and URL (with ath when it sends Authorization: DPoP), the
// latest DPoP-Nonce the server sent is put in the next proof, and a
// request refused with use_dpop_nonce is sent once more with the new
// nonce. Requests counts the round trips, Retries the nonce retries.
type DPoPTransport struct {
	Key      *dpop.Key
	Base     http.RoundTripper
	Requests atomic.Int64
	Retries  atomic.Int64

	mu    sync.Mutex
	nonce string
}

// NewDPoPKey returns a new ES256 DPoP key whose proofs are made on the
// server's clock.
func (s *Server) NewDPoPKey(t testing.TB) *dpop.Key {
	t.Helper()
	k := NewDPoPKey(t)
	k.Now = s.Clock.Now
	return k
}

// NewDPoPKey returns a new ES256 DPoP key.
func NewDPoPKey(t testing.TB) *dpop.Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dpop.NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DPoPClient returns an HTTP client whose requests carry proofs of key,
// and its transport.
func DPoPClient(key *dpop.Key) (*http.Client, *DPoPTransport) {
	tr := &DPoPTransport{Key: key, Base: http.DefaultTransport}
	return &http.Client{Transport: tr}, tr
}

// Nonce returns the last nonce the server sent.
func (t *DPoPTransport) Nonce() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonce
}

// RoundTrip implements http.RoundTripper.
func (t *DPoPTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.send(req)
	if err != nil || !askedForNonce(res) || req.Body != nil && req.GetBody == nil {
		return res, err
	}
	res.Body.Close()
	t.Retries.Add(1)
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(retry)
}

func (t *DPoPTransport) send(req *http.Request) (*http.Response, error) {
	t.Requests.Add(1)
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	var token string
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		token = tok
	}
	proof, err := t.Key.Proof(req.Method, u.String(), token, t.Nonce())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	res, err := t.Base.RoundTrip(r)
	if err == nil {
		if n := res.Header.Get("DPoP-Nonce"); n != "" {
			t.mu.Lock()
			t.nonce = n
			t.mu.Unlock()
		}
	}
	return res, err
}

// askedForNonce reports a use_dpop_nonce answer: a token-endpoint error
// (400) or a resource server's challenge (401).
func askedForNonce(res *http.Response) bool {
	if res.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	switch res.StatusCode {
	case http.StatusBadRequest:
		return true // the body says use_dpop_nonce; a new nonce is reason enough to retry once
	case http.StatusUnauthorized:
		return strings.Contains(res.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
	}
	return false
}
