package tokenauth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/tokenauth"
)

// ExampleRequireContentDigest is an upstream behind nginx auth_request:
// tokend has checked the signature of each request, body digest
// included, but nginx did not send it the body, so the upstream checks
// that the body is the one Content-Digest names. A signed request passes
// with its body; a body changed in transit under the old digest, or
// added to a request signed without one, is refused with 400.
func ExampleRequireContentDigest() {
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "order %s\n", b)
	})
	srv := httptest.NewServer(tokenauth.RequireContentDigest(1<<20, orders))
	defer srv.Close()

	signer := &client.RequestSigner{KeyID: "key_1", Alg: api.SigHMACSHA256, Secret: make([]byte, 32)}
	post := func(signedBody, sentBody string) {
		req, _ := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(signedBody))
		signer.Sign(req) // adds Content-Digest when there is a body, Signature-Input and Signature
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(sentBody)), int64(len(sentBody))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Print(resp.StatusCode, " ", string(b))
	}
	post(`{"qty":1}`, `{"qty":1}`)
	post(`{"qty":1}`, `{"qty":1000}`)
	post("", `{"qty":1000}`)
	// Output:
	// 200 order {"qty":1}
	// 400 {"error":"invalid_request","error_description":"the body does not match Content-Digest sha-256 (the body was changed, or the digest is of another body)"}
	// 400 {"error":"invalid_request","error_description":"the request has a body but no Content-Digest field"}
}
