package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestDecodeErrorsSayWhatIsWrong checks the messages of bodies that cannot
// be decoded: syntax errors carry a line and column, a body that is not an
// object says what it is, an empty body says so, and a duration field
// says what a duration looks like.
func TestDecodeErrorsSayWhatIsWrong(t *testing.T) {
	f := newFixture(t)
	prefix := `{"api_id":"` + f.api.ID + `","subject":"s"`
	cases := []struct {
		name, body, want string
	}{
		{"missing quote", "{\n  \"api_id\": \"x,\n  \"subject\": s\n}", "line 2, column"},
		{"trailing comma", "{\"api_id\":\"x\",\n}", "line 2, column 1"},
		{"single quotes", "{'api_id':'x'}", "line 1, column 2"},
		{"cut short", `{"api_id":"x"`, "ends early, at line 1, column 14"},
		{"empty body", "", "the body is empty"},
		{"blank body", " \n ", "the body is empty"},
		{"array body", `[{"api_id":"x"}]`, "the body must be a JSON object, not an array"},
		{"string body", `"x"`, "the body must be a JSON object, not a string"},
		{"number ttl", prefix + `,"ttl":3600}`, `field "ttl" must be a duration string such as "5m"`},
		{"prose ttl", prefix + `,"ttl":"30 days"}`, `field "ttl" must be a duration string such as "5m"`},
		{"number window", prefix + `,"ratelimits":[{"name":"m","limit":1,"window":60}]}`,
			`field "ratelimits.window" must be a duration string such as "5m"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, p := f.raw(t, "POST", "/v1/keys", "application/json", c.body, "")
			if resp.StatusCode != 400 || p.Code() != api.ErrBadRequest || !strings.Contains(p.Detail, c.want) {
				t.Errorf("got %d %q %q, want 400 bad-request with %q", resp.StatusCode, p.Code(), p.Detail, c.want)
			}
		})
	}
}

// TestSyntaxErrorNeverQuotesTheBody checks that the message places a bad
// character without repeating it.
func TestSyntaxErrorNeverQuotesTheBody(t *testing.T) {
	f := newFixture(t)
	_, p := f.raw(t, "POST", "/v1/verify", "application/json", `{"token":"abc\qSECRET"}`, "")
	if strings.Contains(p.Detail, "'q'") || strings.Contains(p.Detail, "SECRET") {
		t.Errorf("detail quotes the body: %s", p.Detail)
	}
	if !strings.Contains(p.Detail, "line 1, column 15") {
		t.Errorf("detail %q lacks the position", p.Detail)
	}
}

// TestDurationsTakeDays checks that the API takes "7d".
func TestDurationsTakeDays(t *testing.T) {
	f := newFixture(t)
	resp, _, body := f.rawBody(t, "POST", "/v1/keys", "application/json",
		`{"api_id":"`+f.api.ID+`","subject":"s","ttl":"7d","ratelimits":[{"name":"d","limit":5,"window":"1d"}]}`, "")
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"window":"24h0m0s"`) {
		t.Errorf("window not one day: %s", body)
	}
	var ck api.CreatedKey
	mustDecode(t, body, &ck)
	if got := ck.Key.ExpiresAt.Sub(f.Clock.Now()); got != 7*24*time.Hour {
		t.Errorf("ttl 7d gave an expiry %v away, want 168h", got)
	}
}

func mustDecode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
}
