package server

import (
	"reflect"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/jsonkeys"
)

// verifyBodies are verify bodies the fast path must take or leave;
// FuzzDecodeVerifyFast starts from them.
var verifyBodies = []struct {
	body string
	fast bool
}{
	{`{"token":"tokend_abc"}`, true},
	{` { "token" : "tk_x" , "audience":"api","scopes":["read","write"],"client_ip":"10.0.0.1"}` + "\n", true},
	{"{\t\"scopes\" :[ ]\r\n}", true},
	{`{}`, true},
	{`{"token":""}`, true},
	{`{"token":"a","token":"b"}`, false},    // repeated: refused on the general path
	{`{"Token":"a"}`, false},                // another case: refused
	{`{"token":"a","cost":2}`, false},       // a member it leaves to the general path
	{`{"token":"a\u0041"}`, false},          // an escape
	{`{"token":"é"}`, false},                // not ASCII
	{`{"token":"a"}{}`, false},              // two values
	{`{"token":"a",}`, false},               // trailing comma
	{`{"scopes":null}`, false},              // null
	{`{"scopes":["a",]}`, false},            // trailing comma in the array
	{`{"token":1}`, false},                  // a wrong type
	{`{"token":"a"`, false},                 // cut short
	{`{"unknown":"a"}`, false},              // unknown: refused
	{`{"token":"a" "audience":"b"}`, false}, // no comma
	{`["token"]`, false},
	{``, false},
}

// TestDecodeVerifyFast checks which bodies the fast path takes, and that
// it decodes each to what the general path does.
func TestDecodeVerifyFast(t *testing.T) {
	for _, tt := range verifyBodies {
		var got api.VerifyRequest
		if ok := decodeVerifyFast([]byte(tt.body), &got); ok != tt.fast {
			t.Errorf("decodeVerifyFast(%q) = %v, want %v", tt.body, ok, tt.fast)
		}
		checkSameAsGeneral(t, []byte(tt.body))
	}
}

// FuzzDecodeVerifyFast holds the fast path to the general one: a body it
// takes decodes without error, to the same value, on the general path,
// and a body it leaves is left untouched.
func FuzzDecodeVerifyFast(f *testing.F) {
	for _, tt := range verifyBodies {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSameAsGeneral(t, b) })
}

func checkSameAsGeneral(t *testing.T, b []byte) {
	t.Helper()
	sentinel := api.VerifyRequest{Token: "untouched"}
	fast := sentinel
	if !decodeVerifyFast(b, &fast) {
		if !reflect.DeepEqual(fast, sentinel) {
			t.Fatalf("decodeVerifyFast(%q) left the body but changed dst to %+v", b, fast)
		}
		return
	}
	var general api.VerifyRequest
	if err := jsonkeys.Unmarshal(b, &general, jsonkeys.Strict); err != nil {
		t.Fatalf("decodeVerifyFast took %q, which the general path refuses: %v", b, err)
	}
	if !reflect.DeepEqual(fast, general) {
		t.Fatalf("%q: fast path decoded %#v, general path %#v", b, fast, general)
	}
}
