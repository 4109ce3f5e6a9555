package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/store"
)

// mgmtTarget is the server a management fuzz run writes to, with one API,
// key and client for the PATCH routes.
type mgmtTarget struct {
	*servertest.Server
	apiID, keyID, clientID string
}

func newMgmtTarget(t testing.TB) *mgmtTarget {
	t.Helper()
	s := servertest.New(t)
	ctx := context.Background()
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Fuzz", Audience: "https://fuzz.example",
		Scopes: []string{"read", "write"}, KeyPrefix: "fz"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Client.CreateKey(ctx, api.CreateKeyRequest{APIID: a.ID, Subject: "s", Credits: &api.Credits{Remaining: 5}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Client.CreateClient(ctx, api.CreateClientRequest{Name: "c", APIScopes: map[string][]string{a.ID: {"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &mgmtTarget{Server: s, apiID: a.ID, keyID: k.Key.ID, clientID: c.Client.ID}
}

// snapshot is everything a refused request must leave as it was: how many
// APIs, keys and clients exist, the PATCH targets, and the newest audit
// event (every write appends one).
func (m *mgmtTarget) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	apis, err1 := m.DB.ListAPIs(ctx)
	keys, err2 := m.DB.ListKeys(ctx, store.KeyFilter{Limit: 1 << 20})
	clients, err3 := m.DB.ListClients(ctx, "", 1<<20)
	evs, err4 := m.DB.ListEvents(ctx, store.EventFilter{Limit: 1})
	a, err5 := m.DB.APIByID(ctx, m.apiID)
	k, err6 := m.DB.KeyByID(ctx, m.keyID)
	c, err7 := m.DB.ClientByID(ctx, m.clientID)
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err != nil {
			t.Fatal(err)
		}
	}
	k.UsageCount, k.LastUsedAt = 0, k.LastUsedAt.Truncate(0) // bookkeeping, not state
	b, _ := json.Marshal([]any{len(apis), len(keys), len(clients), evs, a, k, c})
	return string(b)
}

// FuzzManagementJSON sends fuzzed JSON bodies to the POST and PATCH routes
// of APIs, keys and clients through the real handler and server. The
// properties: never a 500, never a dropped connection (a panic), and a
// 4xx changes nothing.
func FuzzManagementJSON(f *testing.F) {
	seeds := []struct {
		route uint8
		body  string
	}{
		{0, `{"name":"n","audience":"https://a.example","scopes":["x"],"key_prefix":"ab","policy":{"max_key_ttl":"720h"}}`},
		{1, `{"name":"m","policy":{"default_ratelimits":[{"name":"m","limit":5,"window":"1m"}]}}`},
		{2, `{"api_id":"API","subject":"s","ttl":"7d","credits":{"remaining":3,"refill":{"amount":1,"interval":"1h"}},"metadata":{"a":1}}`},
		{3, `{"credits":{"remaining":500},"expires_at":"9999-12-31T23:59:59Z","ratelimits":[]}`},
		{3, `{"credits":{"remaning":500}}`},
		{3, `{"expires_at":null,"metadata":null,"allowed_cidrs":["10.0.0.0/8"]}`},
		{4, `{"name":"c","api_scopes":{"API":["read"]},"grant_types":["client_credentials","refresh_token"]}`},
		{5, `{"name":"c2","access_token_ttl":"1h","api_scopes":{"API":["write"]}}`},
		{2, "{\"api_id\":\"API\",\"subject\":\"s\",\"metadata\":{\"a\":\"\xff\"}}"},
		{3, `{"ttl":"2562047h"}`},
		{3, `{"credits":{"Remaining":500}}`},
		{3, `{"enabled":true,"enabled":false}`},
		{2, `{"api_id":"API","subject":"s","metadata":{"a":1,"a":2}}`},
		{2, `{"api_id":"API","subject":"s","ratelimits":[{"name":"m","limit":1,"window":"1m","\u006cimit":9}]}`},
		{4, `{"name":"c","api_scopes":{"API":["read"]},"Redirect_URIs":["https://c.example/cb"]}`},
	}
	for _, s := range seeds {
		f.Add(s.route, []byte(s.body))
	}
	m := newMgmtTarget(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		body = bytes.ReplaceAll(body, []byte("API"), []byte(m.apiID))
		routes := []struct{ method, path string }{
			{"POST", "/v1/apis"}, {"PATCH", "/v1/apis/" + m.apiID},
			{"POST", "/v1/keys"}, {"PATCH", "/v1/keys/" + m.keyID},
			{"POST", "/v1/clients"}, {"PATCH", "/v1/clients/" + m.clientID},
		}
		r := routes[int(route)%len(routes)]
		before := m.snapshot(t)
		req, _ := http.NewRequest(r.method, m.URL+r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+m.AdminKey)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v (did the handler panic?)", r.method, r.path, err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, resp.StatusCode, answer)
		}
		if resp.StatusCode >= 400 {
			if after := m.snapshot(t); after != before {
				t.Fatalf("%s %s %q: %d changed the state:\n%s\n%s", r.method, r.path, body, resp.StatusCode, before, after)
			}
		}
		if resp.StatusCode < 300 && hasDuplicateKey(body) {
			t.Fatalf("%s %s %q: %d for a body with a key given twice", r.method, r.path, body, resp.StatusCode)
		}
	})
}

// hasDuplicateKey reports a JSON document with an object that holds a
// key twice, found with json.Decoder's tokens (not with jsonkeys, which
// the server uses).
func hasDuplicateKey(b []byte) bool {
	return json.Valid(b) && duplicateIn(json.NewDecoder(bytes.NewReader(b)))
}

// duplicateIn reads one value of a valid document from dec.
func duplicateIn(dec *json.Decoder) bool {
	tok, _ := dec.Token()
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			if seen[k.(string)] {
				return true
			}
			seen[k.(string)] = true
			if duplicateIn(dec) {
				return true
			}
		}
		dec.Token()
	case json.Delim('['):
		for dec.More() {
			if duplicateIn(dec) {
				return true
			}
		}
		dec.Token()
	}
	return false
}
