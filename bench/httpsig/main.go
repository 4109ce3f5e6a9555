// Command httpsig measures what checking one signed request costs in
// process: internal/httpsig parses Signature-Input and Signature, checks
// coverage and created, builds the signature base, checks the
// HMAC-SHA256, claims the nonce in an in-process store and recomputes the
// body's sha-256. It prints that beside a bare HMAC-SHA256 of the same
// signature base, and the ratio. Then it measures requests/s through the
// gateway (in process, with tokend and an upstream) with unsigned and
// with signed requests, one after the other in the same run.
//
//	go run ./bench/httpsig [-n 200000] [-c 16] [-d 5s]
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/tokend/tokend/internal/httpsig"
)

func main() {
	n := flag.Int("n", 200_000, "signed requests to verify")
	c := flag.Int("c", 16, "connections of the gateway run")
	d := flag.Duration("d", 5*time.Second, "duration of each gateway run; 0 skips it")
	flag.Parse()
	err := run(*n)
	if err == nil && *d > 0 {
		err = runGateway(*c, *d)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpsig:", err)
		os.Exit(1)
	}
}

var (
	key  = &httpsig.Key{ID: "key_1", Alg: httpsig.AlgHMACSHA256, Secret: []byte("0123456789abcdef0123456789abcdef")}
	body = []byte(`{"invoice":"inv_123","amount":4200,"currency":"EUR"}`)
)

// signed returns n signed POST requests, each with its own nonce.
func signed(n int, now time.Time) ([]*httpsig.Message, error) {
	ms := make([]*httpsig.Message, n)
	for i := range ms {
		m := &httpsig.Message{Method: "POST", TargetURI: "https://api.example.com/v1/invoices?draft=1", HasBody: true,
			Header: map[string][]string{"Content-Type": {"application/json"}, "Content-Digest": {httpsig.Digest(body)}}}
		in, sig, err := httpsig.Sign(m, key, httpsig.SignOptions{Created: now})
		if err != nil {
			return nil, err
		}
		m.Header["Signature-Input"], m.Header["Signature"] = []string{in}, []string{sig}
		ms[i] = m
	}
	return ms, nil
}

func run(n int) error {
	fmt.Printf("httpsig: %s, %d CPUs, GOMAXPROCS %d, one goroutine\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	now := time.Now()
	ms, err := signed(n, now)
	if err != nil {
		return err
	}
	v := &httpsig.Verifier{Now: func() time.Time { return now }, Nonces: httpsig.NewMemory(n)}
	ctx := context.Background()
	start := time.Now()
	for _, m := range ms {
		sig, err := httpsig.Parse(m)
		if err == nil {
			err = v.Verify(ctx, m, sig, key)
		}
		if err == nil {
			err = httpsig.CheckDigest(m, body)
		}
		if err != nil {
			return err
		}
	}
	perVerify := time.Since(start) / time.Duration(n)
	sig, _ := httpsig.Parse(ms[0])
	base, err := sig.Base(ms[0])
	if err != nil {
		return err
	}
	start = time.Now()
	for range n {
		h := hmac.New(sha256.New, key.Secret)
		h.Write(base)
		h.Sum(nil)
	}
	perHMAC := time.Since(start) / time.Duration(n)
	fmt.Printf("signed request (%d-byte base, %d-byte body), full check: %v per request\n", len(base), len(body), perVerify)
	fmt.Printf("bare HMAC-SHA256 of the same %d-byte base:          %v per request\n", len(base), perHMAC)
	fmt.Printf("ratio: %.1fx\n", float64(perVerify)/float64(perHMAC))
	return nil
}
