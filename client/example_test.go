package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// fakeTokend stands in for a tokend server so that the examples run. It
// knows one key, key_1, and one valid token.
func fakeTokend() *httptest.Server {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		var req api.CreateKeyRequest
		json.NewDecoder(r.Body).Decode(&req)
		reply(w, 201, api.CreatedKey{
			Key:    api.Key{ID: "key_1", APIID: req.APIID, Subject: req.Subject, Enabled: true},
			Secret: "bill_key_1_0123456789abcdef",
		})
	})
	mux.HandleFunc("POST /v1/verify", func(w http.ResponseWriter, r *http.Request) {
		var req api.VerifyRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.Token != "bill_key_1_0123456789abcdef" {
			reply(w, 200, api.VerifyResponse{Code: api.CodeNotFound})
			return
		}
		reply(w, 200, api.VerifyResponse{Valid: true, Code: api.CodeValid,
			Token: &api.TokenInfo{ID: "key_1", Subject: "customer-42"}})
	})
	mux.HandleFunc("GET /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			reply(w, 200, api.KeyList{Keys: []api.Key{{ID: "key_1"}, {ID: "key_2"}}, NextCursor: "page2"})
			return
		}
		reply(w, 200, api.KeyList{Keys: []api.Key{{ID: "key_3"}}})
	})
	mux.HandleFunc("GET /v1/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(404)
		json.NewEncoder(w).Encode(api.Problem{Type: api.ProblemTypeBase + api.ErrNotFound,
			Title: "Not Found", Status: 404, Detail: "no such key"})
	})
	return httptest.NewServer(mux)
}

func ExampleNew() {
	c, err := client.New(client.Config{
		URL:        "https://tokend.example.com",
		Token:      os.Getenv("TOKEND_TOKEN"),
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

func ExampleClient_CreateKey() {
	srv := fakeTokend()
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL, Token: "admin-key"})
	if err != nil {
		log.Fatal(err)
	}

	ttl := api.Duration(30 * 24 * time.Hour)
	k, err := c.CreateKey(context.Background(), api.CreateKeyRequest{
		APIID:   "api_billing",
		Subject: "customer-42",
		Scopes:  []string{"invoices:read"},
		TTL:     &ttl,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The secret is returned this once; hand it to its owner now.
	fmt.Println(k.Key.ID, k.Key.Subject)
	fmt.Println(k.Secret)
	// Output:
	// key_1 customer-42
	// bill_key_1_0123456789abcdef
}

func ExampleClient_Verify() {
	srv := fakeTokend()
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL, Token: "admin-key"})
	if err != nil {
		log.Fatal(err)
	}

	for _, presented := range []string{"bill_key_1_0123456789abcdef", "bill_key_9_guess"} {
		res, err := c.Verify(context.Background(), api.VerifyRequest{
			Token:    presented,
			Audience: "https://billing.example.com",
			Scopes:   []string{"invoices:read"},
		})
		if err != nil {
			// tokend could not answer: fail closed.
			log.Fatal(err)
		}
		if !res.Valid {
			fmt.Println("rejected:", res.Code)
			continue
		}
		fmt.Println("accepted for", res.Token.Subject)
	}
	// Output:
	// accepted for customer-42
	// rejected: NOT_FOUND
}

func ExampleClient_ListKeys() {
	srv := fakeTokend()
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL, Token: "admin-key"})
	if err != nil {
		log.Fatal(err)
	}

	opts := client.ListKeysOptions{APIID: "api_billing", Limit: 2}
	for {
		page, err := c.ListKeys(context.Background(), opts)
		if err != nil {
			log.Fatal(err)
		}
		for _, k := range page.Keys {
			fmt.Println(k.ID)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	// Output:
	// key_1
	// key_2
	// key_3
}

func ExampleClient_GetKey_notFound() {
	srv := fakeTokend()
	defer srv.Close()
	c, err := client.New(client.Config{URL: srv.URL, Token: "admin-key"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = c.GetKey(context.Background(), "key_404")
	if p, ok := errors.AsType[*api.Problem](err); ok && p.Code() == api.ErrNotFound {
		fmt.Println("no such key:", p.Detail)
	}
	// Output:
	// no such key: no such key
}

func ExampleClient_UpdateKey() {
	c, err := client.New(client.Config{URL: "https://tokend.example.com", Token: os.Getenv("TOKEND_TOKEN")})
	if err != nil {
		log.Fatal(err)
	}
	name := "ci runner"
	k, err := c.UpdateKey(context.Background(), "key_1", api.UpdateKeyRequest{
		Name:      &name,
		ExpiresAt: api.Null[time.Time](), // never expires
		Credits:   api.Some(api.Credits{Remaining: 1000}),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Name)
}

// A RequestSigner signs requests made with a key that has a signing key:
// here an hmac-sha256 one, whose secret tokend returned at creation.
func ExampleRequestSigner() {
	secret := []byte("0123456789abcdef0123456789abcdef") // base64-decoded api.CreatedKey.SigningSecret
	s := &client.RequestSigner{KeyID: "key_1", Alg: api.SigHMACSHA256, Secret: secret,
		Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	req, _ := http.NewRequest("POST", "https://billing.example.com/v1/invoices", strings.NewReader(`{"amount":100}`))
	req.Header.Set("Authorization", "Bearer "+os.Getenv("TOKEN"))
	if err := s.Sign(req); err != nil {
		log.Fatal(err)
	}
	fmt.Println(req.Header.Get("Content-Digest"))
	in := req.Header.Get("Signature-Input")
	fmt.Println(in[:strings.Index(in, ";nonce")])
	// Output:
	// sha-256=:TUu+Wcaq0iRCzeGZpqil8DRAX814+1qBwk7ySd4cRfE=:
	// sig1=("@method" "@target-uri" "content-digest");created=1800000000
}
