package oauth

import (
	"testing"

	"github.com/tokend/tokend/internal/fetch"
)

// TestDocumentFetchLimitBoundedUnderFlood names a metadata document from
// more addresses than the in-process fetch limit may track, through
// client authentication (the fetcher refuses the loopback URL without
// connecting): the limit never holds more than maxGuardEntries
// addresses, and still refuses an address over it.
func TestDocumentFetchLimitBoundedUnderFlood(t *testing.T) {
	s, _, _ := newTestService(t)
	s.documents = fetch.New(fetch.Config{})
	cr := Credentials{Basic: true, BasicID: "https://127.0.0.1/clients/app.json"}
	for i := range maxGuardEntries + 5000 {
		cr.IP = floodAddr(i)
		if _, err := s.Authenticate(t.Context(), cr); err == nil {
			t.Fatal("a document on a loopback address was accepted")
		}
	}
	if n := s.fetches.local.Len(); n > maxGuardEntries {
		t.Errorf("after %d addresses the fetch limit holds %d, want at most %d", maxGuardEntries+5000, n, maxGuardEntries)
	}
	cr.IP = "192.0.2.1"
	var err error
	for range DefaultDocumentFetchLimit + 1 {
		_, err = s.Authenticate(t.Context(), cr)
	}
	if e, ok := err.(*Error); !ok || e.Status != 429 {
		t.Errorf("fetch %d from one address after the flood: %v, want 429", DefaultDocumentFetchLimit+1, err)
	}
}
