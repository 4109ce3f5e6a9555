package server

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// encodeJSON is what writeJSON wrote for every answer before the hand
// encoders: encoding/json's Encoder with its defaults (HTML escaping).
func encodeJSON(v any) (string, error) {
	var b bytes.Buffer
	err := json.NewEncoder(&b).Encode(v)
	return b.String(), err
}

// checkVerifyJSON fails t unless appendVerifyResponse writes what
// encoding/json writes for v, or declines where encoding/json fails.
func checkVerifyJSON(t *testing.T, v *api.VerifyResponse) (appended bool) {
	t.Helper()
	want, err := encodeJSON(v)
	got, ok := appendVerifyResponse(nil, v)
	switch {
	case err != nil && ok:
		t.Fatalf("appended %s where encoding/json fails (%v)", got, err)
	case err == nil && !ok:
		t.Fatalf("declined %s, which encoding/json encodes", want)
	case ok && string(got)+"\n" != want:
		t.Fatalf("appended\n%s\nencoding/json writes\n%s", got, want)
	}
	return ok
}

// jsonStrings exercise every escape encoding/json makes and the shapes of
// the answer's real values.
var jsonStrings = []string{
	"", "VALID", "NOT_FOUND", "key_06h0mcvlnp2p1ld5e7dck0ovs0", "api_key", "user_1", "read", "write admin",
	"https://api.example/v1?a=1&b=<2>", `quote"back\slash`, "nl\ncr\rtab\tbs\bff\f", "\x00\x1f\x7f",
	"héllo ✓ 🙂", "line\u2028para\u2029", "bad\xffutf8\xc3",
}

var metadataSamples = []json.RawMessage{
	nil, {}, json.RawMessage(`{"plan":"pro"}`), json.RawMessage(" {\n \"a\" : [1, 2.5e3, true, null],\t\"b\":{} }\n"),
	json.RawMessage(`{"html":"<b>&amp;</b>","sep":"` + "\u2028\u2029" + `"}`), json.RawMessage(`"just a string"`),
	json.RawMessage(`{"unclosed":`), json.RawMessage(`not json`), json.RawMessage(`{"a":1} {"b":2}`),
}

// TestVerifyResponseMatchesEncodingJSON compares the hand-written
// verification answer with encoding/json's for many answers, with every
// member present or absent and every kind of value.
func TestVerifyResponseMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	str := func() string {
		if rng.IntN(3) > 0 {
			return jsonStrings[rng.IntN(len(jsonStrings))]
		}
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	maybe := func(s string) string {
		if rng.IntN(2) == 0 {
			return ""
		}
		return s
	}
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -3600)}
	when := func() time.Time {
		switch rng.IntN(5) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(rng.Int64N(1<<40)-1<<39, 0) // years outside 0–9999 too
		}
		return time.Unix(rng.Int64N(1<<32), rng.Int64N(1e9)).Round(time.Duration(rng.IntN(3)) * time.Second).
			In(zones[rng.IntN(len(zones))])
	}
	duration := func() api.Duration {
		if rng.IntN(2) == 0 {
			return 0
		}
		return api.Duration(rng.Int64N(1<<50) - 1<<49)
	}
	appended := 0
	for range 20000 {
		v := &api.VerifyResponse{Valid: rng.IntN(2) == 0, Code: api.Code(str()), Problem: maybe(str()),
			SignatureChecked: rng.IntN(2) == 0, DPoPNonce: maybe(str()), DPoPError: maybe(str())}
		if rng.IntN(4) > 0 {
			tok := &api.TokenInfo{ID: str(), Kind: str(), APIID: str(), Subject: str(), Name: maybe(str()),
				ClientID: maybe(str()), JKT: maybe(str()), Metadata: metadataSamples[rng.IntN(len(metadataSamples))]}
			switch n := rng.IntN(4); n {
			case 0: // nil: null
			case 1:
				tok.Scopes = []string{}
			default:
				for range n {
					tok.Scopes = append(tok.Scopes, str())
				}
			}
			if rng.IntN(2) == 0 {
				exp := when()
				tok.ExpiresAt = &exp
			}
			v.Token = tok
		}
		for range rng.IntN(4) - 1 {
			v.RateLimits = append(v.RateLimits, api.RateLimitState{Name: str(), Limit: rng.Int64() - rng.Int64(),
				Remaining: rng.Int64N(1000), Reset: when(), Window: duration(), RetryAfter: duration()})
		}
		if rng.IntN(2) == 0 {
			v.RateLimits = []api.RateLimitState{} // empty: omitted
		}
		if rng.IntN(3) == 0 {
			v.Credits = &api.CreditState{Remaining: rng.Int64() - rng.Int64()}
		}
		if checkVerifyJSON(t, v) {
			appended++
		}
	}
	if appended < 5000 {
		t.Errorf("only %d answers appended by hand", appended)
	}
	if _, ok := appendVerifyResponse(nil, nil); ok {
		t.Error("appended a nil answer, which encoding/json writes as null")
	}
}

func FuzzVerifyResponseJSON(f *testing.F) {
	f.Add(true, "VALID", "key_1", "api_key", "api_1", "user_1", "read", "", []byte(`{"a":1}`), int64(1764500000), int64(0), "", int64(0))
	f.Add(false, "RATE_LIMITED", "<&>", "\u2028", "\xff", "", "", "x", []byte(" [ 1 ] "), int64(-62135596801), int64(60e9), "minute", int64(5))
	f.Fuzz(func(t *testing.T, valid bool, code, id, kind, apiID, subject, scope, problem string, metadata []byte,
		expires, window int64, limitName string, credits int64) {
		exp := time.Unix(expires, 0).UTC()
		v := &api.VerifyResponse{Valid: valid, Code: api.Code(code), Problem: problem,
			Token: &api.TokenInfo{ID: id, Kind: kind, APIID: apiID, Subject: subject, Scopes: []string{scope},
				ExpiresAt: &exp, Metadata: metadata},
			RateLimits: []api.RateLimitState{{Name: limitName, Limit: window, Reset: exp, Window: api.Duration(window)}},
			Credits:    &api.CreditState{Remaining: credits}}
		checkVerifyJSON(t, v)
	})
}
