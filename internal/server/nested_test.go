package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestUnknownNestedFieldsRefused is the L13 regression: inside a PATCH's
// Nullable fields the decoder was lenient, so {"credits":{"remaning":500}}
// answered 200 and set credits to 0. Every nested object, in PATCH and
// POST, refuses unknown fields with 400 and changes nothing.
func TestUnknownNestedFieldsRefused(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{Credits: &api.Credits{Remaining: 7}})
	c, err := f.Client.CreateClient(t.Context(), api.CreateClientRequest{Name: "c", APIScopes: map[string][]string{f.api.ID: {"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ method, path, body string }{
		{"PATCH", "/v1/keys/" + k.Key.ID, `{"credits":{"remaning":500}}`},
		{"PATCH", "/v1/keys/" + k.Key.ID, `{"credits":{"remaining":5,"bogus":1}}`},
		{"PATCH", "/v1/keys/" + k.Key.ID, `{"credits":{"remaining":5,"refill":{"amount":1,"interval":"1h","every":2}}}`},
		{"PATCH", "/v1/keys/" + k.Key.ID, `{"ratelimits":[{"name":"m","limit":1,"window":"1m","burst":3}]}`},
		{"PATCH", "/v1/apis/" + f.api.ID, `{"policy":{"max_key_tll":"1h"}}`},
		{"PATCH", "/v1/apis/" + f.api.ID, `{"policy":{"default_ratelimits":[{"name":"m","limit":1,"window":"1m","x":1}]}}`},
		{"POST", "/v1/keys", `{"api_id":"` + f.api.ID + `","subject":"s","credits":{"remaining":1,"refill":{"amount":1,"interval":"1h","x":0}}}`},
		{"PATCH", "/v1/clients/" + c.Client.ID, `{"name":"c2","access_token_ttl":"1h","extra":{"a":1}}`},
	}
	before := f.state(t)
	for _, tt := range tests {
		resp, p := f.raw(t, tt.method, tt.path, "application/json", tt.body, "")
		if resp.StatusCode != http.StatusBadRequest || p.Code() != api.ErrBadRequest || !strings.Contains(p.Detail, "unknown field") {
			t.Errorf("%s %s %s: %d %s %q; want 400 bad-request naming the unknown field", tt.method, tt.path, tt.body, resp.StatusCode, p.Code(), p.Detail)
		}
	}
	if after := f.state(t); after != before {
		t.Error("a refused request changed the state")
	}
	if got, _ := f.Client.GetKey(t.Context(), k.Key.ID); got.Credits == nil || got.Credits.Remaining != 7 {
		t.Errorf("credits = %+v, want 7 left", got.Credits)
	}
}
