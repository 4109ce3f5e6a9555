package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
)

// env is a real tokend server with two APIs, billing (scopes read, write)
// and shipping (scope ship).
type env struct {
	*servertest.Server
	billing, shipping *api.API
}

// testIP is the client address of the requests tests make through the
// Service's methods.
const testIP = "192.0.2.10"

func newEnv(t testing.TB) *env {
	t.Helper()
	return startEnv(t, servertest.Options{})
}

// startEnv is newEnv with a server set up with o.
func startEnv(t testing.TB, o servertest.Options) *env {
	t.Helper()
	s := servertest.Start(t, o)
	e := &env{Server: s}
	var err error
	if e.billing, err = s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Billing",
		Audience: "https://billing.example", Scopes: []string{"read", "write"}, KeyPrefix: "bill",
		Policy: api.Policy{DynamicClientScopes: []string{"read", "write"}}}); err != nil {
		t.Fatal(err)
	}
	if e.shipping, err = s.Client.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "Shipping",
		Audience: "https://shipping.example", Scopes: []string{"ship"}, KeyPrefix: "ship",
		Policy: api.Policy{DynamicClientScopes: []string{"ship"}}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// client creates an OAuth client allowed billing's read and write and
// shipping's ship, with both grants, adjusted by mod.
func (e *env) client(t testing.TB, mod func(*api.CreateClientRequest)) *api.CreatedClient {
	t.Helper()
	req := api.CreateClientRequest{Name: "worker", GrantTypes: []string{"client_credentials", "refresh_token"},
		APIScopes: map[string][]string{e.billing.ID: {"read", "write"}, e.shipping.ID: {"ship"}}}
	if mod != nil {
		mod(&req)
	}
	c, err := e.Client.CreateClient(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

// answer is a decoded token-endpoint answer, success or error.
type answer struct {
	Status       int    `json:"-"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Active       *bool  `json:"active"`
	Raw          map[string]any
}

// post sends form to path, authenticated as c with HTTP Basic when c is
// not nil, and decodes the answer.
func (e *env) post(t *testing.T, path string, c *api.CreatedClient, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil {
		req.SetBasicAuth(c.Client.ID, c.Secret)
	}
	return do(t, req)
}

// do sends req and decodes the answer; each see, if any, looks at the
// response first.
func do(t *testing.T, req *http.Request, see ...func(*http.Response)) answer {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for _, f := range see {
		f(res)
	}
	var a answer
	var raw json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&raw); err == nil {
		json.Unmarshal(raw, &a)
		json.Unmarshal(raw, &a.Raw)
	}
	a.Status = res.StatusCode
	return a
}

// token runs client_credentials for c with the given extra parameters
// (name, value pairs) and fails the test unless it succeeds.
func (e *env) token(t *testing.T, c *api.CreatedClient, kv ...string) answer {
	t.Helper()
	a := e.post(t, "/oauth2/token", c, form(append([]string{"grant_type", "client_credentials"}, kv...)...))
	if a.Status != 200 {
		t.Fatalf("client_credentials %v: %d %s", kv, a.Status, a.Error)
	}
	return a
}

func (e *env) refresh(t *testing.T, c *api.CreatedClient, rt string) answer {
	t.Helper()
	return e.post(t, "/oauth2/token", c, form("grant_type", "refresh_token", "refresh_token", rt))
}

// verifyCode verifies token at /v1/verify for audience.
func (e *env) verifyCode(t *testing.T, token, audience string, scopes ...string) api.Code {
	t.Helper()
	r, err := e.Client.Verify(t.Context(), api.VerifyRequest{Token: token, Audience: audience, Scopes: scopes})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r.Code
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}
