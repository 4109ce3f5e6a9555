package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestDerivedIssuerNamesTheBoundPort proves that with --addr 127.0.0.1:0
// the issuer tokend derives (and puts in every JWT's iss) is the address
// it really listens on, not "http://127.0.0.1:0", which no client can
// reach or match.
func TestDerivedIssuerNamesTheBoundPort(t *testing.T) {
	url, _, _, _ := startServe(t, t.TempDir())
	resp, err := http.Get(url + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != url {
		t.Errorf("issuer = %q, want the bound address %q", meta.Issuer, url)
	}
}
