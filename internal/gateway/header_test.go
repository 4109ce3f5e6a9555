package gateway

import (
	"net/http"
	"testing"

	"github.com/tokend/tokend/api"
)

// TestHeaderNamesCanonical: rewrite sets and deletes these names in the
// header map as they are, without canonicalizing them, so each must be
// canonical already.
func TestHeaderNamesCanonical(t *testing.T) {
	names := append(identityHeaders[:], api.HeaderIdentity, "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"Authorization", "Dpop", "Forwarded", "X-Real-Ip")
	for _, n := range names {
		if c := http.CanonicalHeaderKey(n); c != n {
			t.Errorf("%q is not canonical (%q)", n, c)
		}
	}
}
