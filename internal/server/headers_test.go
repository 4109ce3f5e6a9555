package server

import (
	"net/http"
	"testing"
)

// TestHeaderKeysAreCanonical: the keys the hot paths look headers up by
// are the ones http.Header stores them under; a key in any other form
// would find nothing.
func TestHeaderKeysAreCanonical(t *testing.T) {
	for _, k := range []string{keyAuthorization, keyContentType, keyDPoP, keyOrigin} {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("key %q is stored as %q", k, c)
		}
	}
	h := http.Header{}
	h.Add("DPoP", "proof")
	h.Add("authorization", "Bearer x")
	if firstHeader(h, keyDPoP) != "proof" || firstHeader(h, keyAuthorization) != "Bearer x" || firstHeader(h, keyOrigin) != "" {
		t.Errorf("firstHeader does not find what Header.Add stored: %v", h)
	}
}
