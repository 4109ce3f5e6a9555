package multinode

import (
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// TestDPoPAcrossNodes: two nodes on one PostgreSQL and one Redis share
// DPoP state. A nonce issued by one node is accepted by the other (both
// derive the nonce key from the KEK), and a proof accepted by one node
// is a replay on the other (its jti is in Redis).
func TestDPoPAcrossNodes(t *testing.T) {
	pg, redis, tokend := services(t)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", redisURL(redis))
	ctx := t.Context()
	a, b := p.a.Client(p.admin), p.b.Client(p.admin)
	apiID := newAPI(t, a)
	key := servertest.NewDPoPKey(t)
	k, err := a.CreateKey(ctx, api.CreateKeyRequest{APIID: apiID, Subject: "c", DPoPJWK: key.PublicJWK()})
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://api.multinode.test/v1/things"
	proof := func(nonce string) *api.VerifyDPoP {
		pr, err := key.Proof("GET", u, k.Secret, nonce)
		if err != nil {
			t.Fatal(err)
		}
		return &api.VerifyDPoP{Proof: pr, Method: "GET", URL: u}
	}
	r, err := a.Verify(ctx, api.VerifyRequest{Token: k.Secret, DPoP: proof("")})
	if err != nil || r.Code != api.CodeUseDPoPNonce || r.DPoPNonce == "" {
		t.Fatalf("a proof without a nonce on node A = %+v, %v; want USE_DPOP_NONCE with a nonce", r, err)
	}
	nonce := r.DPoPNonce
	once := proof(nonce)
	if r, err := a.Verify(ctx, api.VerifyRequest{Token: k.Secret, DPoP: once}); err != nil || r.Code != api.CodeValid {
		t.Fatalf("node A with its nonce = %+v, %v; want VALID", r, err)
	}
	if r, err := b.Verify(ctx, api.VerifyRequest{Token: k.Secret, DPoP: once}); err != nil || r.Code != api.CodeInvalidDPoPProof {
		t.Errorf("the same proof replayed to node B = %+v, %v; want INVALID_DPOP_PROOF", r, err)
	}
	if r, err := b.Verify(ctx, api.VerifyRequest{Token: k.Secret, DPoP: proof(nonce)}); err != nil || r.Code != api.CodeValid {
		t.Errorf("a fresh proof with node A's nonce on node B = %+v, %v; want VALID", r, err)
	}
}
