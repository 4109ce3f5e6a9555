package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/store"
	"golang.org/x/oauth2"
)

// holdClients makes billing's policy hold dynamically registered clients
// for approval.
func (e *env) holdClients(t *testing.T) {
	t.Helper()
	p := e.billing.Policy
	p.ApproveDynamicClients = true
	if _, err := e.Client.UpdateAPI(t.Context(), e.billing.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatal(err)
	}
}

// TestMetadataDocumentApproval: a client ID metadata document client
// asking billing's scopes is stored pending at its first use and
// refused (unauthorized_client) at the authorization endpoint until an
// admin approves it; a changed document keeps the decision.
func TestMetadataDocumentApproval(t *testing.T) {
	docs := newDocServer(t)
	e := cimdEnv(t, fetch.New(fetch.Config{InsecureAllowPrivate: true}))
	e.holdClients(t)
	ctx := t.Context()
	id := docs.set("/clients/app.json", map[string]any{"client_name": "Doc app", "redirect_uris": []string{"http://127.0.0.1/callback"},
		"token_endpoint_auth_method": "none", "scope": "openid read"})
	p := e.provider(t)
	cfg := oauth2.Config{ClientID: id, Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1:41234/callback",
		Scopes: []string{oidc.ScopeOpenID, "read"}}
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	f, _ := oauth.ParseForm([]byte(strings.SplitN(authURL, "?", 2)[1]))
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "unauthorized_client") {
		t.Fatalf("Authorize(pending document client) = %v, want unauthorized_client", err)
	}
	c, err := e.DB.ClientByID(ctx, id)
	if err != nil || c.Approval.State != store.ApprovalPending {
		t.Fatalf("stored client = approval %+v, %v; want pending", c.Approval, err)
	}
	evs, err := e.DB.ListEvents(ctx, store.EventFilter{Action: "approval.requested", TargetID: id, Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Errorf("approval.requested events = %d, %v; want one", len(evs), err)
	}
	if _, err := e.Client.Approve(ctx, id, ""); err != nil {
		t.Fatalf("Approve(%s): %v", id, err)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Fatalf("Authorize after the approval: %v", err)
	}
	// A changed document does not undo the decision.
	docs.set("/clients/app.json", map[string]any{"client_id": id, "client_name": "Doc app v2",
		"redirect_uris": []string{"http://127.0.0.1/callback"}, "token_endpoint_auth_method": "none", "scope": "openid read"})
	e.Clock.Advance(301e9)
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Fatalf("Authorize after the document changed: %v", err)
	}
	if c, err := e.DB.ClientByID(ctx, id); err != nil || c.Name != "Doc app v2" || c.Approval.State != store.ApprovalApproved {
		t.Errorf("client after the change = %q %+v, %v; want the new name, still approved", c.Name, c.Approval, err)
	}
}

// TestRegisteredClientApproval: a pending public client registered for
// billing is refused at the authorization and device endpoints, and an
// RFC 7592 update may not widen an unheld client to billing.
func TestRegisteredClientApproval(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	free, err := e.OAuth.Register(ctx, "", "192.0.2.1", oauth.Registration{ClientName: "ship app",
		GrantTypes: []string{oauth.GrantClientCredentials}, APIScopes: map[string][]string{e.shipping.ID: {"ship"}}})
	if err != nil || free.Approval != nil {
		t.Fatalf("Register(shipping) = approval %+v, %v; want none", free.Approval, err)
	}
	e.holdClients(t)
	reg, err := e.OAuth.Register(ctx, "", "192.0.2.1", oauth.Registration{ClientName: "cli",
		GrantTypes: []string{oauth.GrantAuthorizationCode, oauth.GrantDeviceCode}, TokenEndpointAuthMethod: oauth.AuthNone,
		RedirectURIs: []string{"http://127.0.0.1/callback"}, Scope: "read"})
	if err != nil || reg.Approval == nil || reg.Approval.State != api.ApprovalPending {
		t.Fatalf("Register(billing) = approval %+v, %v; want pending", reg.Approval, err)
	}
	res, err := http.PostForm(e.URL+"/oauth2/device_authorization", url.Values{"client_id": {reg.ClientID}, "scope": {"read"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("device authorization of a pending client: %d, want 400 unauthorized_client", res.StatusCode)
	}
	f, _ := oauth.ParseForm([]byte(url.Values{"client_id": {reg.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"},
		"scope": {"read"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()))
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "unauthorized_client") {
		t.Errorf("Authorize(pending) = %v, want unauthorized_client", err)
	}
	_, err = e.OAuth.UpdateRegistration(ctx, free.ClientID, free.RegistrationAccessToken, "192.0.2.1", oauth.Registration{
		ClientID: free.ClientID, ClientName: "ship app", GrantTypes: []string{oauth.GrantClientCredentials},
		APIScopes: map[string][]string{e.shipping.ID: {"ship"}, e.billing.ID: {"read"}}})
	if !isOAuthError(err, "invalid_client_metadata") {
		t.Errorf("UpdateRegistration widening to billing = %v, want invalid_client_metadata", err)
	}
	if _, err := e.Client.Deny(ctx, reg.ClientID, "unknown publisher"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "unauthorized_client") {
		t.Errorf("Authorize(denied) = %v, want unauthorized_client", err)
	}
}

// TestMetadataDocumentWideningWaitsAgain: a client ID metadata document
// client approved for billing whose document then reaches shipping,
// which holds new clients too, waits again (as an RFC 7592 update may
// not widen an approved client): it is refused until an admin approves
// the wider client, and administrators are asked once more, not at the
// refetches while it waits.
func TestMetadataDocumentWideningWaitsAgain(t *testing.T) {
	docs := newDocServer(t)
	e := cimdEnv(t, fetch.New(fetch.Config{InsecureAllowPrivate: true}))
	e.holdClients(t)
	ctx := t.Context()
	ship := e.shipping.Policy
	ship.ApproveDynamicClients = true
	if _, err := e.Client.UpdateAPI(ctx, e.shipping.ID, api.UpdateAPIRequest{Policy: &ship}); err != nil {
		t.Fatal(err)
	}
	publish := func(scope string) string {
		return docs.set("/clients/app.json", map[string]any{"client_name": "Doc app", "redirect_uris": []string{"http://127.0.0.1/callback"},
			"token_endpoint_auth_method": "none", "scope": scope})
	}
	id := publish("openid read")
	f, _ := oauth.ParseForm([]byte(url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/callback"},
		"scope": {"read"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()))
	requested := func() int {
		t.Helper()
		evs, err := e.DB.ListEvents(ctx, store.EventFilter{Action: "approval.requested", TargetID: id, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "unauthorized_client") {
		t.Fatalf("Authorize(new document client) = %v, want unauthorized_client", err)
	}
	if _, err := e.Client.Approve(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Fatalf("Authorize after the approval: %v", err)
	}
	publish("openid read ship") // now reaches shipping
	for range 2 {
		e.Clock.Advance(301 * time.Second) // past the document's max-age: fetched again
		if _, err := e.OAuth.Authorize(ctx, f, testIP); !isOAuthError(err, "unauthorized_client") {
			t.Errorf("Authorize after the document reached shipping = %v, want unauthorized_client", err)
		}
	}
	if c, err := e.DB.ClientByID(ctx, id); err != nil || c.Approval.State != store.ApprovalPending || len(c.APIScopes) != 2 {
		t.Errorf("client = approval %+v, APIs %v, %v; want pending for both APIs", c.Approval, c.APIScopes, err)
	}
	if n := requested(); n != 2 {
		t.Errorf("approval.requested events = %d, want 2: the first use, and the widening once", n)
	}
	if _, err := e.Client.Approve(ctx, id, "shipping too"); err != nil {
		t.Fatalf("Approve the wider client: %v", err)
	}
	if _, err := e.OAuth.Authorize(ctx, f, testIP); err != nil {
		t.Errorf("Authorize after the second approval: %v", err)
	}
}
