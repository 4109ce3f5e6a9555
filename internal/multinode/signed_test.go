package multinode

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestSignedRequestReplayAcrossNodes: a signed request accepted by node A
// is refused as a replay by node B, since both remember nonces in the one
// Redis; a fresh signature of the same request passes at B, whose engine
// opens the HMAC signing secret under the shared key-encryption key.
func TestSignedRequestReplayAcrossNodes(t *testing.T) {
	pg, redis, tokend := services(t)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", redisURL(redis))
	c := p.a.Client(p.admin)
	ctx := t.Context()
	a, err := c.CreateAPI(ctx, api.CreateAPIRequest{Name: "signed", Audience: "mn-" + Suffix(), KeyPrefix: "mn",
		Scopes: []string{"read"}, Policy: api.Policy{RequireSignedRequests: true}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s", Signing: &api.KeySigningRequest{Alg: api.SigHMACSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := base64.StdEncoding.DecodeString(k.SigningSecret)
	s := &client.RequestSigner{KeyID: k.Key.ID, Alg: api.SigHMACSHA256, Secret: secret}
	signed := func() *api.SignedRequest {
		r, _ := http.NewRequest("POST", "https://api.example/v1/pay", strings.NewReader(`{"n":1}`))
		if err := s.Sign(r); err != nil {
			t.Fatal(err)
		}
		return &api.SignedRequest{Method: r.Method, TargetURI: r.URL.String(), Headers: r.Header, HasBody: true}
	}
	verify := func(n *Node, req *api.SignedRequest) *api.VerifyResponse {
		t.Helper()
		res, err := n.Client(p.admin).Verify(ctx, api.VerifyRequest{Token: k.Secret, Request: req})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	req := signed()
	if res := verify(p.a, req); res.Code != api.CodeValid {
		t.Fatalf("node A = %s (%s), want VALID", res.Code, res.Problem)
	}
	if res := verify(p.b, req); res.Code != api.CodeSignatureInvalid || !strings.Contains(res.Problem, "replay") {
		t.Errorf("the same request at node B = %s (%s), want SIGNATURE_INVALID for a replay", res.Code, res.Problem)
	}
	if res := verify(p.b, signed()); res.Code != api.CodeValid {
		t.Errorf("a fresh signature at node B = %s (%s), want VALID", res.Code, res.Problem)
	}
}
