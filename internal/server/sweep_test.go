package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/store"
)

// The route-wide sweep of bad input. The operations come from
// openapi.json (which TestOpenAPIMatchesRoutes holds to the route
// table), so a new route is swept without a line here; the bodies and
// the answers they must get come from docs/api.md, "Conventions" and
// "Errors".

// sweepOp is one operation of openapi.json, as the sweep sends it.
type sweepOp struct {
	method, path string // path as documented, with {params}
	security     *[]map[string][]string
	body         bool   // takes a body: a JSON request body, or documents 415
	schema       string // the request body's schema, "" for none
}

func (o sweepOp) String() string { return o.method + " " + o.path }

// sweepOps reads every operation of openapi.json.
func sweepOps(t *testing.T) (ops []sweepOp, schemas map[string]json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				Security    *[]map[string][]string     `json:"security"`
				Responses   map[string]json.RawMessage `json:"responses"`
				RequestBody *struct {
					Content map[string]struct {
						Schema struct {
							Ref string `json:"$ref"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			}
			if !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) || json.Unmarshal(raw, &op) != nil {
				continue
			}
			o := sweepOp{method: strings.ToUpper(method), path: path, security: op.Security}
			if op.RequestBody != nil {
				if c, ok := op.RequestBody.Content["application/json"]; ok {
					o.body, o.schema = true, strings.TrimPrefix(c.Schema.Ref, "#/components/schemas/")
				}
			}
			// A route without a documented body that answers 415 reads
			// one ({} or nothing), as POST /v1/keys/{id}/revoke does.
			_, reads := op.Responses["415"]
			o.body = o.body || reads
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops, doc.Components.Schemas
}

// dupField is a field of schema, for the duplicate key: its first
// required field, or its first field, with a value of its type where
// that is a string (so that POST /v1/verify's fast decoder sees it).
// A body without a schema duplicates a name it does not know.
func dupField(t *testing.T, schemas map[string]json.RawMessage, schema string) string {
	var s struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type json.RawMessage `json:"type"`
		} `json:"properties"`
	}
	if schema == "" {
		return `{"sweep":null,"sweep":null}`
	}
	if err := json.Unmarshal(schemas[schema], &s); err != nil || len(s.Properties) == 0 {
		t.Fatalf("schema %s: %v, %d properties", schema, err, len(s.Properties))
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range s.Properties {
			if !yield(n) {
				return
			}
		}
	})
	name := names[0]
	if len(s.Required) > 0 {
		name = s.Required[0]
	}
	v := "null"
	if string(s.Properties[name].Type) == `"string"` {
		v = `"x"`
	}
	return `{"` + name + `":` + v + `,"` + name + `":` + v + `}`
}

// sweepWant is the answer a bad body must get: a problem document with
// status and code, or, where oauth is set, an OAuth error (RFC 6749
// §5.2 form, {"error":code}).
type sweepWant struct {
	status int
	code   string
	oauth  bool
}

// sweepBody is one kind of bad input.
type sweepBody struct {
	name, ctype string
	body        func(op sweepOp, limit int) string
	want        sweepWant
}

func fixed(s string) func(sweepOp, int) string { return func(sweepOp, int) string { return s } }

// padded is a JSON object of limit+1 bytes.
func padded(_ sweepOp, limit int) string {
	const head, tail = `{"sweep":"`, `"}`
	return head + strings.Repeat("x", limit+1-len(head)-len(tail)) + tail
}

// badBodies are what docs/api.md ("Conventions" and "Errors") says every
// body of the API refuses, and how.
func badBodies(t *testing.T, schemas map[string]json.RawMessage) []sweepBody {
	bad := sweepWant{400, api.ErrBadRequest, false}
	// Fewer than 20: POST /v1/leaked-tokens admits 20 reports a minute
	// from one address (leak.DefaultLimit) before it reads a body.
	return []sweepBody{
		{"malformed JSON", "application/json", fixed(`{"sweep":`), bad},
		{"trailing data", "application/json", fixed(`{} {}`), bad},
		{"unknown field", "application/json", fixed(`{"sweep_unknown_field":true}`), bad},
		{"array body", "application/json", fixed(`[]`), bad},
		{"string body", "application/json", fixed(`"{}"`), bad},
		// encoding/json decodes null into a struct as nothing at all.
		{"null body", "application/json", fixed(`null`), bad},
		{"duplicate key", "application/json", func(op sweepOp, _ int) string { return dupField(t, schemas, op.schema) }, bad},
		{"over the size limit", "application/json", padded, sweepWant{413, api.ErrBodyTooLarge, false}},
		{"form content type", "application/x-www-form-urlencoded", fixed(`sweep=1`), sweepWant{415, api.ErrUnsupportedMedia, false}},
		{"no content type", "", fixed(`{}`), sweepWant{415, api.ErrUnsupportedMedia, false}},
	}
}

// sweepException is a route whose answers to bad bodies differ from the
// API's, deliberately and documented.
type sweepException struct {
	limit int                  // the documented body limit
	want  map[string]sweepWant // by body name; a missing body is not sent
	why   string               // where the exception is documented
}

// dcrSweep is dynamic client registration (RFC 7591/7592): docs/api.md
// "OAuth 2.0 endpoints", "Dynamic registration": it answers OAuth errors,
// not problem documents; unknown members are ignored (RFC 7591 §2), so
// that body is not sent (it would register a client); a body over 64 KiB,
// or not application/json, is invalid_request; anything else unreadable
// is invalid_client_metadata.
var dcrSweep = sweepException{
	limit: oauth.MaxFormBytes,
	want: map[string]sweepWant{
		"malformed JSON":      {400, oauth.ErrInvalidClientMetadata, true},
		"trailing data":       {400, oauth.ErrInvalidClientMetadata, true},
		"array body":          {400, oauth.ErrInvalidClientMetadata, true},
		"string body":         {400, oauth.ErrInvalidClientMetadata, true},
		"null body":           {400, oauth.ErrInvalidClientMetadata, true},
		"duplicate key":       {400, oauth.ErrInvalidClientMetadata, true},
		"over the size limit": {400, oauth.ErrInvalidRequest, true},
		"form content type":   {400, oauth.ErrInvalidRequest, true},
		"no content type":     {400, oauth.ErrInvalidRequest, true},
	},
	why: "docs/api.md, OAuth 2.0 endpoints, Dynamic registration",
}

var sweepExceptions = map[string]sweepException{
	"POST /oauth2/register":     dcrSweep,
	"PUT /oauth2/register/{id}": dcrSweep,
}

// sweepFixture is a server with one real object of each kind a route
// names by id, and the credentials each kind of route takes.
type sweepFixture struct {
	*patFixture
	ids      map[string]string // by the path segment before the id
	self     string            // alice's personal access token with tokend:self
	regToken string            // the registration access token of ids["register"]
	secret   string            // a live key's secret, for the token-in-URL checks
}

func newSweepFixture(t *testing.T) *sweepFixture {
	t.Helper()
	f := &sweepFixture{patFixture: newPATFixture(t)}
	ctx := t.Context()
	f.gate(t)
	pending := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"write"}})
	plain := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	self := f.pat(t, f.alice.ID, api.CreateTokenRequest{APIID: "api_tokend", Scopes: []string{"tokend:self"}})
	k := f.key(t, api.CreateKeyRequest{})
	c, err := f.Client.CreateClient(ctx, api.CreateClientRequest{Name: "c", APIScopes: map[string][]string{f.api.ID: {"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	hook, err := f.Client.CreateWebhook(ctx, api.CreateWebhookRequest{URL: "https://203.0.114.9/hook", Events: []string{"key.create"}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := f.OAuth.Register(ctx, "", "192.0.2.1", oauth.Registration{ClientName: "r", GrantTypes: []string{"client_credentials"}, Scope: "read"})
	if err != nil {
		t.Fatal(err)
	}
	f.self, f.regToken, f.secret = self.Secret, reg.RegistrationAccessToken, k.Secret
	f.ids = map[string]string{
		"apis": f.api.ID, "keys": k.Key.ID, "clients": c.Client.ID, "webhooks": hook.Webhook.ID, "users": f.alice.ID,
		"tokens": plain.Token.ID, "approvals": pending.Token.ID, "register": reg.ClientID, "grants": c.Client.ID,
		// Ids no route above creates: well-formed, unknown. The routes
		// that take them take no body; the token-in-URL refusal comes
		// before routing.
		"families": "rtf_06c8m0b1kq3fd2q3v1hq5e8r9c", "sessions": "sess_06c8m0b1kq3fd2q3v1hq5e8r9c",
		"passkeys": "pk_06c8m0b1kq3fd2q3v1hq5e8r9c", "authz": "anything",
	}
	return f
}

// url fills op's path parameters with ids of real objects.
func (f *sweepFixture) url(t *testing.T, op sweepOp) string {
	t.Helper()
	segs := strings.Split(op.path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			id, ok := f.ids[segs[i-1]]
			if !ok {
				t.Fatalf("%s: no id for %s; add one to newSweepFixture", op, s)
			}
			segs[i] = id
		}
	}
	return strings.Join(segs, "/")
}

// auth is the Authorization header op takes, from its security: an
// admin key by default (the document's global security), none where
// anyone may call, else the credential the route is about.
func (f *sweepFixture) auth(op sweepOp) string {
	switch {
	case op.security == nil:
		return "Bearer " + f.AdminKey
	case slices.ContainsFunc(*op.security, func(m map[string][]string) bool { return len(m) == 0 }):
		return ""
	}
	for _, m := range *op.security {
		if _, ok := m["personalToken"]; ok {
			return "Bearer " + f.self
		}
		if _, ok := m["bearer"]; ok {
			return "Bearer " + f.regToken
		}
	}
	return "Bearer " + f.AdminKey
}

// state is f.state and every other listing a refused request must leave
// as it was: users, personal access tokens, clients, webhooks, pending
// approvals, grants, signing keys.
func (f *sweepFixture) state(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	us, err1 := f.DB.ListUsers(ctx, store.UserFilter{Limit: 1000})
	pats, err2 := f.DB.ListKeys(ctx, store.KeyFilter{Personal: true, Limit: 1000})
	cs, err3 := f.DB.ListClients(ctx, "", 1000)
	hs, err4 := f.DB.ListWebhooks(ctx, "", 1000)
	as, err5 := f.DB.ListApprovals(ctx, store.ApprovalFilter{State: store.ApprovalPending, Limit: 1000})
	gs, err6 := f.DB.ListAllGrants(ctx, store.GrantFilter{Limit: 1000})
	sks, err7 := f.DB.ListSigningKeys(ctx)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal([]any{us, pats, cs, hs, as, gs, sks})
	return f.fixture.state(t) + string(b)
}

// send makes one request and returns the answer's status and its error
// code: a problem document's code, or an OAuth error's error.
func (f *sweepFixture) send(t *testing.T, method, url, ctype, body, auth string, oauthErr bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, f.URL+url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 400 {
		return resp.StatusCode, ""
	}
	if oauthErr {
		var e struct {
			Error string `json:"error"`
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || json.Unmarshal(b, &e) != nil {
			t.Errorf("%s %s: %s %s, want an OAuth error", method, url, ct, b)
		}
		return resp.StatusCode, e.Error
	}
	var p api.Problem
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s %s: content type %q, want application/problem+json", method, url, ct)
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Title == "" || p.Status != resp.StatusCode {
		t.Errorf("%s %s: problem %s (%v)", method, url, b, err)
	}
	return resp.StatusCode, p.Code()
}

// TestBadBodyEveryRoute sends every kind of bad body to every operation
// of openapi.json that reads one, with a credential the route accepts
// and the ids of real objects: each must be refused as docs/api.md says
// (or as a documented exception says) and change nothing.
func TestBadBodyEveryRoute(t *testing.T) {
	f := newSweepFixture(t)
	ops, schemas := sweepOps(t)
	swept := 0
	for _, op := range ops {
		if !op.body {
			continue
		}
		swept++
		ex, special := sweepExceptions[op.String()]
		limit, doc := server.MaxBodyBytes, "docs/api.md, Conventions"
		if special {
			limit, doc = ex.limit, ex.why
		}
		for _, b := range badBodies(t, schemas) {
			want := b.want
			if special {
				var ok bool
				if want, ok = ex.want[b.name]; !ok {
					continue
				}
			}
			t.Run(op.String()+"/"+b.name, func(t *testing.T) {
				before := f.state(t)
				status, code := f.send(t, op.method, f.url(t, op), b.ctype, b.body(op, limit), f.auth(op), want.oauth)
				if status != want.status || code != want.code {
					t.Errorf("%s %s: %d %q, want %d %q (%s)", op, b.name, status, code, want.status, want.code, doc)
				}
				if after := f.state(t); after != before {
					t.Errorf("%s %s changed state:\nbefore %s\nafter  %s", op, b.name, before, after)
				}
			})
		}
	}
	if swept < 30 {
		t.Errorf("swept %d operations; openapi.json documents more bodies than that", swept)
	}
}

// TestTokenInURLEveryRoute asks every GET operation under /v1 of
// openapi.json with a tokend token, or a parameter named access_token,
// in the query: docs/api.md, "Credentials never go in a URL": refused
// with 400 token-in-url before routing, on every path.
func TestTokenInURLEveryRoute(t *testing.T) {
	f := newSweepFixture(t)
	ops, _ := sweepOps(t)
	for _, op := range ops {
		if op.method != "GET" || !strings.HasPrefix(op.path, "/v1/") {
			continue
		}
		for _, query := range []string{"?cursor=" + f.secret, "?access_token=abc", "?limit=10&cursor=" + f.secret} {
			t.Run(op.String()+query[:strings.IndexByte(query, '=')], func(t *testing.T) {
				before := f.state(t)
				status, code := f.send(t, "GET", f.url(t, op)+query, "", "", f.auth(op), false)
				if status != 400 || code != api.ErrTokenInURL {
					t.Errorf("%s with a token in the query: %d %q, want 400 %q", op, status, code, api.ErrTokenInURL)
				}
				if after := f.state(t); after != before {
					t.Errorf("%s changed state:\nbefore %s\nafter  %s", op, before, after)
				}
			})
		}
	}
}
