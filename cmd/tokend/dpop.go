package main

import (
	"log/slog"

	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/seal"
)

// newDPoP builds the DPoP (RFC 9449) proof checker of the token endpoint
// and of verification. Its nonces are keyed by a secret derived from the
// KEK, so every node of a deployment accepts the others'; proofs are
// remembered in Redis when --redis is set, so that a proof replayed to
// another node is refused, else in process.
func newDPoP(cfg serveConfig, kek []byte, p *peers, log *slog.Logger) *dpop.Checker {
	var c dpop.Config
	if cfg.dpopNonce {
		c.Nonces = dpop.NewNonces(seal.Derive(kek, "dpop-nonce"), 0, nil)
	}
	if p.redis != nil {
		c.Replay = p.redis
	} else if cfg.database != "" {
		log.Warn("DPoP proofs are remembered per node: a proof replayed to another node is caught only by its nonce and iat window; pass --redis to share them")
	}
	return dpop.New(c)
}
