// Package client is the Go client for tokend's management API. With it a
// program creates APIs (the resource servers whose keys tokend issues),
// issues, updates, rotates and revokes keys, verifies presented tokens and
// reads the audit log. The tokend command-line tool is built on it.
//
// The package depends only on the standard library and on the wire types in
// [github.com/tokend/tokend/api]; it never imports tokend's internals.
//
// # Connecting
//
// A [Client] is made once from a [Config] and is safe for concurrent use:
//
//	c, err := client.New(client.Config{
//		URL:   "https://tokend.example.com",
//		Token: os.Getenv("TOKEND_TOKEN"), // an admin key
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//
// The token is sent as "Authorization: Bearer" on every request. The client
// never puts it in a URL and never includes it in an error, so errors are
// safe to log. Use https for anything but a loopback address.
//
// # Issuing a key
//
// Create an API once, then keys for it. The secret of a new key is returned
// exactly once, in [api.CreatedKey]; tokend keeps only a hash of it:
//
//	a, err := c.CreateAPI(ctx, api.CreateAPIRequest{
//		Name: "billing", Audience: "https://billing.example.com",
//		Scopes: []string{"invoices:read", "invoices:write"}, KeyPrefix: "bill",
//	})
//	ttl := api.Duration(30 * 24 * time.Hour)
//	k, err := c.CreateKey(ctx, api.CreateKeyRequest{
//		APIID: a.ID, Subject: "customer-42",
//		Scopes: []string{"invoices:read"}, TTL: &ttl,
//	})
//	deliver(k.Secret) // show or send it now; it cannot be read again
//
// [Client.RotateKey] issues a new secret for the same key, keeping the old
// one valid for a grace period; [Client.RevokeKey] ends a key for good.
//
// # Changing a key
//
// [api.UpdateKeyRequest] is a PATCH: nil fields keep their value. The
// fields of type [api.Nullable] can also be cleared:
//
//	name := "ci runner"
//	_, err = c.UpdateKey(ctx, id, api.UpdateKeyRequest{
//		Name:      &name,
//		ExpiresAt: api.Null[time.Time](), // never expires
//	})
//
// # Verifying a token
//
// [Client.Verify] answers every outcome with an [api.VerifyResponse]; the
// error is non-nil only when the question could not be asked (network,
// authentication, malformed request). Check Valid, and Code for the reason:
//
//	res, err := c.Verify(ctx, api.VerifyRequest{
//		Token: presented, Audience: "https://billing.example.com",
//		Scopes: []string{"invoices:read"}, ClientIP: remoteIP,
//	})
//	if err != nil {
//		return err // tokend unreachable: fail closed
//	}
//	if !res.Valid {
//		return fmt.Errorf("rejected: %s", res.Code)
//	}
//
// # Signing requests
//
// A key created with a signing key (api.CreateKeyRequest.Signing) signs
// its requests with a [RequestSigner] (RFC 9421 HTTP Message Signatures
// over the method, the target URI and the body's Content-Digest):
//
//	secret, _ := base64.StdEncoding.DecodeString(created.SigningSecret)
//	s := &client.RequestSigner{KeyID: created.Key.ID, Alg: api.SigHMACSHA256, Secret: secret}
//	hc := &http.Client{Transport: s.Transport(nil)} // signs every request
//
// # Errors
//
// Every answer outside 2xx is returned as an *[api.Problem], decoded from
// the server's application/problem+json body (or made up from the status
// when a proxy answered instead). Branch on its stable code:
//
//	_, err := c.GetKey(ctx, id)
//	if p, ok := errors.AsType[*api.Problem](err); ok && p.Code() == api.ErrNotFound {
//		// no such key
//	}
//
// # Paging
//
// [Client.ListKeys] and [Client.ListAudit] return one page at a time. Pass
// the page's NextCursor back as Cursor until it is empty:
//
//	opts := client.ListKeysOptions{APIID: a.ID}
//	for {
//		page, err := c.ListKeys(ctx, opts)
//		if err != nil {
//			return err
//		}
//		use(page.Keys)
//		if page.NextCursor == "" {
//			break
//		}
//		opts.Cursor = page.NextCursor
//	}
package client
