package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// TestJSONKeysExact checks that every JSON body of the API refuses a
// field name in another case and a key given twice, at every depth, with
// 400 bad-request naming the field and never a value, and changes
// nothing; and that the same bodies spelt right are taken. encoding/json
// alone matches names without regard to case and keeps the last of two
// keys, so a proxy or an auditor reading the first would see another
// request than tokend acts on.
func TestJSONKeysExact(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{Credits: &api.Credits{Remaining: 7}, Metadata: json.RawMessage(`{"plan":"pro"}`)})
	c, err := f.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: "c", APIScopes: map[string][]string{f.api.ID: {"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "SECRETVALUE"
	key, api1 := k.Secret, f.api.ID
	newKey := `"api_id":"` + api1 + `","subject":"s"`
	cases := []struct {
		name, method, path, body string
		field                    string // the problem's field member
		detail                   string // in the detail
		good                     string // the body spelt right, taken (status < 300); "" to skip
	}{
		{"upper case", "POST", "/v1/verify", `{"TOKEN":"` + key + `"}`, "TOKEN", `unknown field "TOKEN" (names are case-sensitive: "token")`,
			`{"token":"` + key + `"}`},
		{"title case", "POST", "/v1/verify", `{"Token":"` + key + `"}`, "Token", `unknown field "Token"`, ""},
		{"escaped upper case", "POST", "/v1/verify", `{"\u0054oken":"` + key + `"}`, "Token", `unknown field "Token"`, ""},
		{"long s for s", "POST", "/v1/verify", `{"token":"` + key + `","\u017fcopes":["write"]}`, "\u017fcopes", `(names are case-sensitive: "scopes")`,
			`{"token":"` + key + `","scopes":["read"]}`},
		{"duplicate", "POST", "/v1/verify", `{"token":"` + secret + `","token":"` + key + `"}`, "token", `duplicate field "token"`, ""},
		{"duplicate escaped", "POST", "/v1/verify", `{"token":"` + key + `","\u0074oken":"` + secret + `"}`, "token", `duplicate field "token"`, ""},
		{"duplicate case variant", "POST", "/v1/verify", `{"token":"` + key + `","TOKEN":"` + secret + `"}`, "TOKEN", `unknown field "TOKEN"`, ""},
		{"nested duplicate", "POST", "/v1/verify", `{"token":"` + key + `","dpop":{"proof":"a","method":"GET","method":"POST","url":"https://x.example"}}`,
			"dpop.method", `duplicate field "dpop.method"`, ""},
		{"nested case", "POST", "/v1/verify", `{"token":"` + key + `","request":{"method":"GET","Target_URI":"https://x.example/","headers":{}}}`,
			"request.Target_URI", `unknown field "request.Target_URI"`, ""},
		{"duplicate header", "POST", "/v1/verify", `{"token":"` + key + `","request":{"method":"GET","target_uri":"https://x.example/","headers":{"Signature":["` + secret + `"],"Signature":["b"]}}}`,
			"request.headers", `field "request.headers" has a duplicate key`,
			`{"token":"` + key + `","request":{"method":"GET","target_uri":"https://x.example/","headers":{"Signature":["a","b"]}}}`},

		{"create key, case", "POST", "/v1/keys", `{` + newKey + `,"Subject":"t"}`, "Subject", `unknown field "Subject"`, `{` + newKey + `}`},
		{"create key, duplicate", "POST", "/v1/keys", `{` + newKey + `,"subject":"t"}`, "subject", `duplicate field "subject"`, ""},
		{"rate limit in an array", "POST", "/v1/keys", `{` + newKey + `,"ratelimits":[{"name":"a","limit":1,"window":"1m"},{"name":"b","limit":1,"window":"1m","limit":1000}]}`,
			"ratelimits.limit", `duplicate field "ratelimits.limit"`,
			`{` + newKey + `,"ratelimits":[{"name":"a","limit":1,"window":"1m"},{"name":"b","limit":1000,"window":"1m"}]}`},
		{"rate limit case in an array", "POST", "/v1/keys", `{` + newKey + `,"ratelimits":[{"name":"a","Limit":1,"window":"1m"}]}`,
			"ratelimits.Limit", `unknown field "ratelimits.Limit"`, ""},
		{"refill", "POST", "/v1/keys", `{` + newKey + `,"credits":{"remaining":1,"refill":{"amount":1,"interval":"1h","amount":9}}}`,
			"credits.refill.amount", `duplicate field "credits.refill.amount"`, ""},
		{"signing", "POST", "/v1/keys", `{` + newKey + `,"signing":{"alg":"hmac-sha256","ALG":"ed25519"}}`, "signing.ALG", `unknown field "signing.ALG"`, ""},
		{"metadata", "POST", "/v1/keys", `{` + newKey + `,"metadata":{"plan":"free","plan":"` + secret + `"}}`, "metadata", `field "metadata" has a duplicate key`,
			`{` + newKey + `,"metadata":{"plan":"free","Plan":"x"}}`},
		{"deep in metadata", "POST", "/v1/keys", `{` + newKey + `,"metadata":{"a":[{"` + secret + `":1,"` + secret + `":2}]}}`, "metadata", `field "metadata" has a duplicate key`, ""},
		{"dpop jwk", "POST", "/v1/keys", `{` + newKey + `,"dpop_jwk":{"kty":"EC","kty":"OKP"}}`, "dpop_jwk", `field "dpop_jwk" has a duplicate key`, ""},

		{"patch credits, case", "PATCH", "/v1/keys/" + k.Key.ID, `{"credits":{"Remaining":500}}`, "credits.Remaining", `unknown field "credits.Remaining"`,
			`{"credits":{"remaining":8}}`},
		{"patch credits, duplicate", "PATCH", "/v1/keys/" + k.Key.ID, `{"credits":{"remaining":5,"remaining":500}}`, "credits.remaining", `duplicate field "credits.remaining"`, ""},
		{"patch enabled", "PATCH", "/v1/keys/" + k.Key.ID, `{"enabled":true,"enabled":false}`, "enabled", `duplicate field "enabled"`, ""},
		{"patch metadata", "PATCH", "/v1/keys/" + k.Key.ID, `{"metadata":{"plan":"free","plan":"x"}}`, "metadata", `has a duplicate key`, ""},

		{"create api", "POST", "/v1/apis", `{"name":"n","audience":"https://n.example","key_prefix":"nn","Scopes":["admin"]}`, "Scopes", `unknown field "Scopes"`,
			`{"name":"n","audience":"https://n.example","key_prefix":"nn","scopes":["admin"]}`},
		{"patch api policy", "PATCH", "/v1/apis/" + api1, `{"policy":{"default_ratelimits":[{"name":"m","limit":1,"window":"1m","window":"1h"}]}}`,
			"policy.default_ratelimits.window", `duplicate field "policy.default_ratelimits.window"`, ""},

		{"client, embedded settings", "POST", "/v1/clients", `{"name":"c2","api_scopes":{"` + api1 + `":["read"]},"grant_types":["authorization_code"],"Redirect_URIs":["https://c.example/cb"]}`,
			"Redirect_URIs", `unknown field "Redirect_URIs" (names are case-sensitive: "redirect_uris")`,
			`{"name":"c2","api_scopes":{"` + api1 + `":["read"]},"grant_types":["authorization_code"],"redirect_uris":["https://c.example/cb"]}`},
		{"client api scopes", "POST", "/v1/clients", `{"name":"c3","api_scopes":{"` + api1 + `":["read"],"` + api1 + `":["write"]}}`,
			"api_scopes", `field "api_scopes" has a duplicate key`, ""},
		{"patch client", "PATCH", "/v1/clients/" + c.Client.ID, `{"name":"a","first_party":false,"first_party":true}`, "first_party", `duplicate field "first_party"`, ""},

		{"user password", "POST", "/v1/users", `{"username":"ann","password":"` + secret + `1","password":"` + secret + `2"}`, "password", `duplicate field "password"`, ""},
		{"user admin", "POST", "/v1/users", `{"username":"ann","Admin":true}`, "Admin", `unknown field "Admin"`, `{"username":"bob"}`},
		{"leak report", "POST", "/v1/leaked-tokens", `{"token":"` + key + `","Token":"x"}`, "Token", `unknown field "Token"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := f.strictState(t)
			resp, p, answer := f.rawBody(t, c.method, c.path, "application/json", c.body, "")
			if resp.StatusCode != http.StatusBadRequest || p.Code() != api.ErrBadRequest || p.Field != c.field || !strings.Contains(p.Detail, c.detail) {
				t.Errorf("%s %s %s:\n got %d %s field %q %q\nwant 400 bad-request field %q with %q", c.method, c.path, c.body,
					resp.StatusCode, p.Code(), p.Field, p.Detail, c.field, c.detail)
			}
			if strings.Contains(answer, secret) || strings.Contains(answer, key) {
				t.Errorf("the answer repeats a value: %s", answer)
			}
			if after := f.strictState(t); after != before {
				t.Error("a refused body changed the state")
			}
			if c.good == "" {
				return
			}
			resp, p, answer = f.rawBody(t, c.method, c.path, "application/json", c.good, "")
			if resp.StatusCode >= 300 {
				t.Errorf("%s %s %s, spelt right: %d %s", c.method, c.path, c.good, resp.StatusCode, answer)
			}
		})
	}
	got, err := f.Client.GetKey(t.Context(), k.Key.ID)
	if err != nil || got.Credits == nil || got.Credits.Remaining != 8 || !got.Enabled || string(got.Metadata) != `{"plan":"pro"}` {
		t.Errorf("key after the refused PATCHes: %+v %v; want credits 8 (the one taken), enabled, metadata as created", got, err)
	}
}

// strictState is the fixture's state and its clients and users, which a
// refused body must leave as they were.
func (f *fixture) strictState(t *testing.T) string {
	t.Helper()
	cs, err1 := f.DB.ListClients(t.Context(), "", 1000)
	us, err2 := f.DB.ListUsers(t.Context(), store.UserFilter{Limit: 1000})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	b, _ := json.Marshal([]any{cs, us})
	return f.state(t) + string(b)
}

// TestRegistrationJSONKeys checks RFC 7591 registration: unknown
// metadata is still ignored (§2), but a member given twice, at any depth,
// or a registered name in another case (which encoding/json would act on)
// is refused with invalid_client_metadata, and nothing is registered.
func TestRegistrationJSONKeys(t *testing.T) {
	f := newFixture(t)
	scopes := `"tokend_api_scopes":{"` + f.api.ID + `":["read"]}`
	for _, c := range []struct{ name, body, desc string }{
		{"duplicate", `{"client_name":"a","client_name":"b",` + scopes + `}`, `duplicate field "client_name"`},
		{"duplicate unknown", `{"client_name":"a","x_extra":1,"x_extra":2,` + scopes + `}`, `duplicate field "x_extra"`},
		{"case", `{"client_name":"a","Redirect_URIs":["https://evil.example/cb"],"grant_types":["authorization_code"],` + scopes + `}`,
			`"Redirect_URIs" is not "redirect_uris"`},
		{"case beside the name", `{"client_name":"a","CLIENT_NAME":"b",` + scopes + `}`, `"CLIENT_NAME" is not "client_name"`},
		{"scopes", `{"client_name":"a","tokend_api_scopes":{"` + f.api.ID + `":["read"],"` + f.api.ID + `":["write"]}}`,
			`field "tokend_api_scopes" has a duplicate key`},
		{"jwks", `{"client_name":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"EC","kty":"RSA"}]},` + scopes + `}`,
			`field "jwks" has a duplicate key`},
		{"unknown member value", `{"client_name":"a","x_extra":{"a":1,"a":2},` + scopes + `}`, `field "x_extra" has a duplicate key`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.strictState(t)
			status, raw := f.post(t, "/oauth2/register", "application/json", c.body, nil)
			checkOAuthError(t, status, raw, 400, "invalid_client_metadata")
			var e struct {
				Description string `json:"error_description"`
			}
			json.Unmarshal(raw, &e)
			if !strings.Contains(e.Description, c.desc) {
				t.Errorf("description %q, want %q", e.Description, c.desc)
			}
			if after := f.strictState(t); after != before {
				t.Error("a refused registration changed the state")
			}
		})
	}
	status, raw := f.post(t, "/oauth2/register", "application/json", `{"client_name":"a","x_extra":{"a":1},"X_Extra":2,"policy_uri":"https://a.example/p",`+scopes+`}`, nil)
	if status != http.StatusCreated {
		t.Errorf("unknown metadata, each once: %d %s; want 201 (RFC 7591 §2: ignored)", status, raw)
	}
}
