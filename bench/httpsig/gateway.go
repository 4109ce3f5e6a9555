package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/bench/internal/loadgen"
	"github.com/tokend/tokend/bench/internal/node"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/tokenauth"
)

// runGateway measures requests/s through the gateway, in process with
// tokend (SQLite) and a trivial upstream, with c connections for d each:
// first with an API key that does not sign (its VALID answer is cached by
// the gateway for 5s, as by default), then with a key that signs every
// request with hmac-sha256 (each answer is asked of tokend: a signed
// request is checked once, its nonce claimed).
func runGateway(c int, d time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tokend-httpsig-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	n, err := node.Start(ctx, node.Config{Dir: dir})
	if err != nil {
		return err
	}
	defer n.Close()
	apiID, err := n.CreateBenchAPI(ctx)
	if err != nil {
		return err
	}
	plain, err := n.Keys.IssueKey(ctx, audit.System, api.CreateKeyRequest{APIID: apiID, Subject: "plain", Scopes: []string{"read"}})
	if err != nil {
		return err
	}
	signed, err := n.Keys.IssueKey(ctx, audit.System, api.CreateKeyRequest{APIID: apiID, Subject: "signed", Scopes: []string{"read"},
		Signing: &api.KeySigningRequest{Alg: api.SigHMACSHA256}})
	if err != nil {
		return err
	}
	vkey, err := n.AdminKey(ctx, "gateway", "tokend:verify")
	if err != nil {
		return err
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("upstream ok\n")) }))
	defer up.Close()
	tab, err := routetable.Parse(fmt.Appendf(nil, `{"routes": [{"name": "all", "path": "/", "upstream": %q, "audience": %q, "scopes": ["read"]}]}`,
		up.URL, node.Audience))
	if err != nil {
		return err
	}
	auth, err := tokenauth.New(tokenauth.Config{URL: n.URL, VerifyKey: vkey, Audience: node.Audience})
	if err != nil {
		return err
	}
	gw, err := gateway.New(gateway.Config{Routes: tab, Auth: auth})
	if err != nil {
		return err
	}
	gs := httptest.NewServer(gw)
	defer gs.Close()
	body := func(_ uint64, buf []byte) []byte { return append(buf, `{"invoice":"inv_123","amount":4200}`...) }
	s := &client.RequestSigner{KeyID: signed.Key.ID, Alg: api.SigHMACSHA256, Secret: signed.SigningSecret}
	hc := loadgen.Client(c)
	fmt.Printf("gateway in process with tokend (SQLite) and the upstream; %d connections, %s each; POST with a 35-byte body\n", c, d)
	rs := loadgen.Run(hc, loadgen.Target{URL: gs.URL + "/invoices", Auth: "Bearer " + plain.Secret, Body: body, WantStatus: 200}, c, d, 0)
	fmt.Printf("unsigned (answer cached 5s): %s\n", rs)
	rsig := loadgen.Run(hc, loadgen.Target{URL: gs.URL + "/invoices", Auth: "Bearer " + signed.Secret, Body: body, WantStatus: 200,
		Sign: s.Sign}, c, d, 0)
	fmt.Printf("signed (asked every time):   %s\n", rsig)
	fmt.Printf("signed / unsigned requests/s: %.2f\n", rsig.RPS()/rs.RPS())
	return nil
}
