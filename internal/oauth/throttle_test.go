package oauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/ids"
)

// TestValidClientNotLockedOutByOtherClientIDsFailures fails 250 client
// authentications from one address (a proxy, say) with other client ids,
// known and unknown: a client with right credentials from that address
// still gets tokens, while the failures end up throttled (M3).
func TestValidClientNotLockedOutByOtherClientIDsFailures(t *testing.T) {
	e := newEnv(t)
	innocent := e.client(t, nil)
	victim := e.client(t, nil)
	wrong := &api.CreatedClient{Client: victim.Client, Secret: "tkcs_wrong"}
	for i := range 250 {
		c := wrong
		if i%5 != 0 {
			c = &api.CreatedClient{Client: api.Client{ID: ids.New("cli", time.Now())}, Secret: "tkcs_wrong"}
		}
		if a := e.post(t, "/oauth2/token", c, form("grant_type", "client_credentials")); a.Status != 401 && a.Status != 429 {
			t.Fatalf("failure %d: %d %q, want 401 or 429", i, a.Status, a.Error)
		}
	}
	if a := e.post(t, "/oauth2/token", innocent, form("grant_type", "client_credentials", "resource", e.billing.Audience)); a.Status != 200 {
		t.Errorf("a client with right credentials behind the failing address: %d %q, want 200", a.Status, a.Error)
	}
	stranger := &api.CreatedClient{Client: api.Client{ID: ids.New("cli", time.Now())}, Secret: "tkcs_wrong"}
	if a := e.post(t, "/oauth2/token", stranger, form("grant_type", "client_credentials")); a.Status != 429 {
		t.Errorf("one more failure from the address after 250: %d %q, want 429", a.Status, a.Error)
	}
	// The victim's own id is throttled: its failures were its own.
	if a := e.post(t, "/oauth2/token", victim, form("grant_type", "client_credentials", "resource", e.billing.Audience)); a.Status != 429 {
		t.Errorf("the client whose id failed 50 times: %d, want 429", a.Status)
	}
}

// TestMalformedClientIDIsInvalidClient sends client ids tokend could not
// have issued, up to 60 000 bytes: each is invalid_client (M4).
func TestMalformedClientIDIsInvalidClient(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"x", "cli_" + strings.Repeat("0", 25), "cli_" + strings.Repeat("Z", 26), strings.Repeat("a", 60_000)} {
		a := e.post(t, "/oauth2/token", nil, form("grant_type", "client_credentials", "client_id", id, "client_secret", "tkcs_x"))
		if a.Status != 401 || a.Error != "invalid_client" {
			t.Errorf("client_id of %d bytes: %d %q, want 401 invalid_client", len(id), a.Status, a.Error)
		}
	}
}
