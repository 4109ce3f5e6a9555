package multinode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// oauthClient is an OAuth client with its secret, and the HTTP client
// its requests go out with.
type oauthClient struct {
	id, secret string
	http       *http.Client
}

// fromIP returns an HTTP client whose connections leave from 127.0.0.n,
// so that the failed client authentications a test provokes on purpose
// are spread over addresses and never meet the per-IP brute-force limit.
func fromIP(t *testing.T, n int) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(n/250), byte(2+n%250))}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// tokenResponse is the answer of the token endpoint (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// postForm sends form to n's path with c's credentials (HTTP Basic) and
// returns the status and the body.
func (c oauthClient) postForm(ctx context.Context, n *Node, path string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", n.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// token runs the client_credentials grant on n; the status is 200 or the
// error's.
func (c oauthClient) token(ctx context.Context, n *Node) (int, tokenResponse, error) {
	status, body, err := c.postForm(ctx, n, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	var tr tokenResponse
	if err == nil && status == http.StatusOK {
		err = json.Unmarshal(body, &tr)
	}
	return status, tr, err
}

// mustToken runs the client_credentials grant on n, which must succeed.
func (c oauthClient) mustToken(t *testing.T, n *Node) tokenResponse {
	t.Helper()
	status, tr, err := c.token(t.Context(), n)
	if err != nil || status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token on %s: %d, %v", n.URL, status, err)
	}
	return tr
}

// revoke revokes token on n (RFC 7009).
func (c oauthClient) revoke(ctx context.Context, n *Node, token string) error {
	status, body, err := c.postForm(ctx, n, "/oauth2/revoke", url.Values{"token": {token}})
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("revoke: %d %s", status, body)
	}
	return err
}

// jwksKIDs returns the kids n publishes.
func jwksKIDs(ctx context.Context, n *Node) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", n.URL+"/oauth2/jwks.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, err
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.KID] = true
	}
	return kids, nil
}

// newOAuthClient creates a client of apiID on the pair with the given
// access-token format and grants; its requests leave from 127.0.0.x
// chosen by n.
func (p *pair) newOAuthClient(t *testing.T, apiID, format string, n int, grants ...string) oauthClient {
	t.Helper()
	c, err := p.a.Client(p.admin).CreateClient(t.Context(), api.CreateClientRequest{Name: "multinode",
		GrantTypes: grants, APIScopes: map[string][]string{apiID: {"read"}}, AccessTokenFormat: format})
	if err != nil {
		t.Fatal(err)
	}
	return oauthClient{id: c.Client.ID, secret: c.Secret, http: fromIP(t, n)}
}
