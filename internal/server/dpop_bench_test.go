package server_test

import (
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// BenchmarkVerifyDPoP is POST /v1/verify over a real HTTP connection of
// a plain API key beside one bound to a DPoP key, each with its proof
// (ES256, ath, nonce, a fresh jti), in one run:
//
//	go test ./internal/server -run '^$' -bench VerifyDPoP -benchtime 2000x
//
// Proofs are made before the timer runs.
func BenchmarkVerifyDPoP(b *testing.B) {
	s := servertest.New(b)
	a, err := s.Client.CreateAPI(b.Context(), api.CreateAPIRequest{Name: "bench", Audience: "https://bench.example",
		Scopes: []string{"read"}, KeyPrefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	key := s.NewDPoPKey(b)
	plain, err := s.Client.CreateKey(b.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "c1"})
	if err != nil {
		b.Fatal(err)
	}
	bound, err := s.Client.CreateKey(b.Context(), api.CreateKeyRequest{APIID: a.ID, Subject: "c2", DPoPJWK: key.PublicJWK()})
	if err != nil {
		b.Fatal(err)
	}
	const u = "https://bench.example/v1/things"
	b.Run("plain", func(b *testing.B) {
		req := api.VerifyRequest{Token: plain.Secret, Audience: a.Audience}
		for b.Loop() {
			if r, err := s.Client.Verify(b.Context(), req); err != nil || r.Code != api.CodeValid {
				b.Fatal(r, err)
			}
		}
	})
	b.Run("dpop", func(b *testing.B) {
		nonce := s.DPoP.Nonce()
		var proofs []string
		refill := func() {
			proofs = proofs[:0]
			for range 1000 {
				p, err := key.Proof("GET", u, bound.Secret, nonce)
				if err != nil {
					b.Fatal(err)
				}
				proofs = append(proofs, p)
			}
		}
		refill()
		i := 0
		for b.Loop() {
			if i == len(proofs) {
				b.StopTimer()
				refill()
				i = 0
				b.StartTimer()
			}
			req := api.VerifyRequest{Token: bound.Secret, Audience: a.Audience,
				DPoP: &api.VerifyDPoP{Proof: proofs[i], Method: "GET", URL: u}}
			i++
			if r, err := s.Client.Verify(b.Context(), req); err != nil || r.Code != api.CodeValid {
				b.Fatal(r, err)
			}
		}
	})
}
