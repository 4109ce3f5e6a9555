package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// TestRegistrationRateLimitedPerAddress registers clients from one
// address: the 21st request within an hour is 429, an hour later
// registration works again (L9).
func TestRegistrationRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"client_name": "dyn", "tokend_api_scopes": map[string][]string{e.billing.ID: {"read"}}}
	for i := range 20 {
		if status, out := e.register(t, http.MethodPost, "/oauth2/register", "", body); status != 201 {
			t.Fatalf("registration %d: %d %v, want 201", i+1, status, out)
		}
	}
	if status, out := e.register(t, http.MethodPost, "/oauth2/register", "", body); status != 429 || out["error"] != "temporarily_unavailable" {
		t.Errorf("registration 21 within the hour: %d %v, want 429 temporarily_unavailable", status, out)
	}
	e.Clock.Advance(time.Hour)
	if status, out := e.register(t, http.MethodPost, "/oauth2/register", "", body); status != 201 {
		t.Errorf("a registration an hour later: %d %v, want 201", status, out)
	}
}

// TestRefreshFamiliesLeaveNoAuditRowsAndExpiredTokensAreSwept starts 30
// refresh-token families: no audit row is written for them, and once
// they expired the sweeper deletes their rows (L9).
func TestRefreshFamiliesLeaveNoAuditRowsAndExpiredTokensAreSwept(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(r *api.CreateClientRequest) {
		r.AccessTokenFormat, r.RefreshTokenTTL = "opaque", ptr(api.Duration(time.Hour))
	})
	before, err := e.Client.ListAudit(t.Context(), auditFilter())
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		e.token(t, c, "resource", e.billing.Audience)
	}
	after, err := e.Client.ListAudit(t.Context(), auditFilter())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Events) != len(before.Events) {
		t.Errorf("30 client_credentials calls added %d audit events, want 0", len(after.Events)-len(before.Events))
	}
	e.Clock.Advance(2*time.Hour + time.Minute) // refresh tokens end after 1 h; the sweep waits another hour
	n, err := e.OAuth.SweepExpired(t.Context())
	if err != nil || n != 60 {
		t.Errorf("SweepExpired = %d, %v; want the 30 refresh and 30 access tokens", n, err)
	}
}

func auditFilter() client.AuditFilter { return client.AuditFilter{Limit: 500} }
