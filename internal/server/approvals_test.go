package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// gate makes f's API hold personal access tokens with scope write, and
// dynamically registered clients, for approval.
func (f *patFixture) gate(t *testing.T) {
	t.Helper()
	a, err := f.Client.GetAPI(t.Context(), f.api.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := a.Policy
	p.PATApprovalScopes, p.ApproveDynamicClients, p.DynamicClientScopes = []string{"write"}, true, []string{"read", "write"}
	if _, err := f.Client.UpdateAPI(t.Context(), f.api.ID, api.UpdateAPIRequest{Policy: &p}); err != nil {
		t.Fatalf("UpdateAPI(approval policy): %v", err)
	}
}

// auditActions are the actions of the audit events about target, oldest
// first.
func (f *fixture) auditActions(t *testing.T, target string) []string {
	t.Helper()
	evs, err := f.DB.ListEvents(t.Context(), store.EventFilter{TargetID: target, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

// TestApprovalOfPAT: a token asking an approval-gated scope is created
// pending and verifies as PENDING_APPROVAL, for its owner too (/v1/me);
// an admin approves it and it verifies at once; a token without such a
// scope needs nothing.
func TestApprovalOfPAT(t *testing.T) {
	f := newPATFixture(t)
	f.gate(t)
	ctx := t.Context()
	plain := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	if plain.Token.Approval != nil || f.code(t, plain.Secret) != api.CodeValid {
		t.Fatalf("a token without gated scopes: approval %+v, verify %s; want none and VALID", plain.Token.Approval, f.code(t, plain.Secret))
	}
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read", "write"}})
	if a := c.Token.Approval; a == nil || a.State != api.ApprovalPending || c.Secret == "" {
		t.Fatalf("CreateUserToken(write) = approval %+v; want pending, with its secret shown", a)
	}
	r := f.verify(t, api.VerifyRequest{Token: c.Secret, Audience: "https://pay.example"})
	if r.Valid || r.Code != api.CodePendingApproval || r.Token == nil || r.Token.ID != c.Token.ID {
		t.Fatalf("verify(pending) = %+v, want PENDING_APPROVAL with the token's details", r)
	}
	// Its owner sees it pending.
	s := f.signIn(t, "alice")
	var mine api.TokenList
	if st, p := f.me(t, meCall{cookie: s.Token}, "GET", "/v1/me/tokens", "", &mine); st != 200 {
		t.Fatalf("GET /v1/me/tokens: %d %+v", st, p)
	}
	if got := findToken(mine, c.Token.ID); got == nil || got.Approval == nil || got.Approval.State != api.ApprovalPending {
		t.Errorf("GET /v1/me/tokens shows %+v, want it pending", got)
	}

	list, err := f.Client.ListApprovals(ctx, "", "", 0)
	if err != nil || len(list.Approvals) != 1 || list.Approvals[0].ID != c.Token.ID ||
		list.Approvals[0].Kind != api.ApprovalKindToken || list.Approvals[0].Token == nil || list.Approvals[0].State != api.ApprovalPending {
		t.Fatalf("ListApprovals = %+v, %v; want alice's token pending", list, err)
	}
	got, err := f.Client.Approve(ctx, c.Token.ID, "")
	if err != nil || got.State != api.ApprovalApproved || got.DecidedAt == nil || got.Token.Approval.State != api.ApprovalApproved {
		t.Fatalf("Approve = %+v, %v", got, err)
	}
	if code := f.code(t, c.Secret, "write"); code != api.CodeValid {
		t.Errorf("verify(approved) = %s, want VALID at once", code)
	}
	if _, err := f.Client.Deny(ctx, c.Token.ID, "changed my mind"); problemCode(err) != api.ErrConflict {
		t.Errorf("Deny(approved) = %v, want 409 conflict: a decision is final", err)
	}
	if list, err := f.Client.ListApprovals(ctx, "", "", 0); err != nil || len(list.Approvals) != 0 {
		t.Errorf("ListApprovals after the decision = %+v, %v; want none pending", list, err)
	}
	if list, err := f.Client.ListApprovals(ctx, api.ApprovalApproved, "", 0); err != nil || len(list.Approvals) != 1 {
		t.Errorf("ListApprovals(approved) = %+v, %v; want the token", list, err)
	}
	want := []string{"pat.create", "approval.requested", "approval.approved"}
	if got := f.auditActions(t, c.Token.ID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit of the token = %v, want %v", got, want)
	}
}

func findToken(l api.TokenList, id string) *api.Token {
	for i := range l.Tokens {
		if l.Tokens[i].ID == id {
			return &l.Tokens[i]
		}
	}
	return nil
}

// TestApprovalDenied: a denied token never verifies, and its owner reads
// the reason.
func TestApprovalDenied(t *testing.T) {
	f := newPATFixture(t)
	f.gate(t)
	ctx := t.Context()
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"write"}})
	if _, err := f.Client.Deny(ctx, c.Token.ID, ""); problemCode(err) != api.ErrInvalidField {
		t.Errorf("Deny without a reason = %v, want invalid_field", err)
	}
	got, err := f.Client.Deny(ctx, c.Token.ID, "write access goes through the payments team")
	if err != nil || got.State != api.ApprovalDenied || got.Reason != "write access goes through the payments team" {
		t.Fatalf("Deny = %+v, %v", got, err)
	}
	if code := f.code(t, c.Secret); code != api.CodeRevoked {
		t.Errorf("verify(denied) = %s, want REVOKED", code)
	}
	if _, err := f.Client.Approve(ctx, c.Token.ID, ""); problemCode(err) != api.ErrConflict {
		t.Errorf("Approve(denied) = %v, want 409", err)
	}
	if code := f.code(t, c.Secret); code != api.CodeRevoked {
		t.Errorf("verify(denied, after a refused approval) = %s, want REVOKED", code)
	}
	tok, err := f.Client.GetToken(ctx, c.Token.ID)
	if err != nil || tok.RevokedReason != api.RevokedDenied || tok.Approval == nil || tok.Approval.Reason == "" {
		t.Errorf("GetToken(denied) = %+v, %v; want revoked for approval_denied with the reason", tok, err)
	}
	// Regenerating gives a denied token no way back.
	if _, err := f.Client.RegenerateToken(ctx, c.Token.ID, api.RegenerateTokenRequest{}); problemCode(err) != api.ErrConflict {
		t.Errorf("RegenerateToken(denied) = %v, want 409", err)
	}
	// A pending token its owner withdrew cannot be approved.
	w := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"write"}})
	if _, err := f.Client.RevokeToken(ctx, w.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Client.Approve(ctx, w.Token.ID, ""); problemCode(err) != api.ErrConflict {
		t.Errorf("Approve(revoked while pending) = %v, want 409", err)
	}
	if code := f.code(t, w.Secret); code != api.CodeRevoked {
		t.Errorf("verify(revoked while pending) = %s, want REVOKED", code)
	}
	want := []string{"pat.create", "approval.requested", "approval.denied"}
	if got := f.auditActions(t, c.Token.ID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit of the token = %v, want %v", got, want)
	}
}

// TestApprovalBadInput: a caller without tokend:admin, an unknown id, a
// token that needed no approval, malformed JSON, unknown fields and an
// overlong reason are refused, and change nothing.
func TestApprovalBadInput(t *testing.T) {
	f := newPATFixture(t)
	f.gate(t)
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"write"}})
	plain := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"read"}})
	vkey := f.verifyKey(t)
	path := "/v1/approvals/" + c.Token.ID
	before := f.state(t)
	for _, tt := range []struct {
		name, method, path, ctype, body, auth string
		status                                int
		code                                  string
	}{
		{"list by a verify key", "GET", "/v1/approvals", "", "", "Bearer " + vkey, 403, api.ErrInsufficientScope},
		{"approve by a verify key", "POST", path + "/approve", "application/json", `{}`, "Bearer " + vkey, 403, api.ErrInsufficientScope},
		{"deny by a verify key", "POST", path + "/deny", "application/json", `{"reason":"no"}`, "Bearer " + vkey, 403, api.ErrInsufficientScope},
		{"approve by the owner's token", "POST", path + "/approve", "", "", "Bearer " + plain.Secret, 401, api.ErrUnauthorized},
		{"approve without credentials", "POST", path + "/approve", "", "", "none", 401, api.ErrUnauthorized},
		{"unknown id", "POST", "/v1/approvals/pat_06c8m0b1kq3fd2q3v1hq5e8r9c/approve", "", "", "", 404, api.ErrNotFound},
		{"a token that needed none", "POST", "/v1/approvals/" + plain.Token.ID + "/approve", "", "", "", 404, api.ErrNotFound},
		{"get unknown", "GET", "/v1/approvals/nope", "", "", "", 404, api.ErrNotFound},
		{"malformed JSON", "POST", path + "/deny", "application/json", `{"reason":`, "", 400, api.ErrBadRequest},
		{"unknown field", "POST", path + "/approve", "application/json", `{"reason":"ok","approved":true}`, "", 400, api.ErrBadRequest},
		{"wrong type", "POST", path + "/deny", "application/json", `{"reason":5}`, "", 400, api.ErrBadRequest},
		{"not JSON", "POST", path + "/deny", "text/plain", `reason=no`, "", 415, api.ErrUnsupportedMedia},
		{"reason too long", "POST", path + "/deny", "application/json", `{"reason":"` + strings.Repeat("x", 501) + `"}`, "", 400, api.ErrInvalidField},
		{"deny without reason", "POST", path + "/deny", "", "", "", 400, api.ErrInvalidField},
		{"unknown state", "GET", "/v1/approvals?state=maybe", "", "", "", 400, api.ErrInvalidField},
		{"bad cursor", "GET", "/v1/approvals?cursor=nonsense", "", "", "", 400, api.ErrInvalidField},
		{"bad limit", "GET", "/v1/approvals?limit=0", "", "", "", 400, api.ErrInvalidField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, p := f.raw(t, tt.method, tt.path, tt.ctype, tt.body, tt.auth)
			if resp.StatusCode != tt.status || p.Code() != tt.code {
				t.Errorf("%s %s: %d %s (%s), want %d %s", tt.method, tt.path, resp.StatusCode, p.Code(), p.Detail, tt.status, tt.code)
			}
		})
	}
	if after := f.state(t); after != before {
		t.Errorf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	if code := f.code(t, c.Secret); code != api.CodePendingApproval {
		t.Errorf("verify after the refused decisions = %s, want PENDING_APPROVAL", code)
	}
}

// TestApprovalPolicyValidation: the policy's approval scopes must be the
// API's own, and unknown policy fields are refused.
func TestApprovalPolicyValidation(t *testing.T) {
	f := newFixture(t)
	before := f.state(t)
	for _, tt := range []struct{ name, body string }{
		{"unknown scope", `{"policy":{"pat_approval_scopes":["delete"]}}`},
		{"not a list", `{"policy":{"pat_approval_scopes":"write"}}`},
		{"not a boolean", `{"policy":{"approve_dynamic_clients":"yes"}}`},
		{"unknown field", `{"policy":{"approve_clients":true}}`},
	} {
		resp, p := f.raw(t, "PATCH", "/v1/apis/"+f.api.ID, "application/json", tt.body, "")
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", tt.name, resp.StatusCode, p.Code())
		}
	}
	if after := f.state(t); after != before {
		t.Errorf("refused policies changed the state")
	}
	a, err := f.Client.UpdateAPI(t.Context(), f.api.ID, api.UpdateAPIRequest{Policy: &api.Policy{
		PATApprovalScopes: []string{"write"}, ApproveDynamicClients: true}})
	if err != nil || !a.Policy.ApproveDynamicClients || len(a.Policy.PATApprovalScopes) != 1 {
		t.Errorf("UpdateAPI(approval policy) = %+v, %v", a.Policy, err)
	}
}

// TestApprovalOfRegisteredClient: a client registered for an API that
// holds new clients for approval is pending: it gets no token
// (unauthorized_client) until an admin approves it; its registrant reads
// the state; a denied client never gets one.
func TestApprovalOfRegisteredClient(t *testing.T) {
	f := newPATFixture(t)
	f.gate(t)
	ctx := t.Context()
	register := func(name string) (id, secret, regToken string) {
		t.Helper()
		body := `{"client_name":"` + name + `","grant_types":["client_credentials"],"tokend_api_scopes":{"` + f.api.ID + `":["read"]}}`
		status, raw := f.post(t, "/oauth2/register", "application/json", body, nil)
		var m struct {
			ClientID                string             `json:"client_id"`
			ClientSecret            string             `json:"client_secret"`
			RegistrationAccessToken string             `json:"registration_access_token"`
			Approval                *api.ApprovalState `json:"tokend_approval"`
		}
		if status != 201 || json.Unmarshal(raw, &m) != nil || m.Approval == nil || m.Approval.State != api.ApprovalPending {
			t.Fatalf("register: %d %s; want 201 with tokend_approval pending", status, raw)
		}
		return m.ClientID, m.ClientSecret, m.RegistrationAccessToken
	}
	token := func(id, secret string) (int, []byte) {
		return f.postForm(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
	}
	id, secret, regToken := register("pending-app")
	status, raw := token(id, secret)
	checkOAuthError(t, status, raw, 400, "unauthorized_client")
	if !strings.Contains(string(raw), "approval") {
		t.Errorf("token for a pending client: %s, want a description naming the approval", raw)
	}
	// A wrong secret learns nothing about the approval.
	status, raw = token(id, "tkcs_wrong")
	checkOAuthError(t, status, raw, 401, "invalid_client")

	list, err := f.Client.ListApprovals(ctx, "", "", 0)
	if err != nil || len(list.Approvals) != 1 || list.Approvals[0].Kind != api.ApprovalKindClient || list.Approvals[0].Client == nil {
		t.Fatalf("ListApprovals = %+v, %v; want the client", list, err)
	}
	if _, err := f.Client.Approve(ctx, id, "vendor checked"); err != nil {
		t.Fatal(err)
	}
	if status, raw := token(id, secret); status != 200 {
		t.Fatalf("token after approval: %d %s", status, raw)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", f.Issuer+"/oauth2/register/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+regToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var read struct {
		Approval *api.ApprovalState `json:"tokend_approval"`
	}
	json.NewDecoder(res.Body).Decode(&read)
	res.Body.Close()
	if read.Approval == nil || read.Approval.State != api.ApprovalApproved || read.Approval.Reason != "vendor checked" {
		t.Errorf("RFC 7592 read after approval: tokend_approval %+v, want approved with the reason", read.Approval)
	}

	denied, dsecret, _ := register("denied-app")
	if _, err := f.Client.Deny(ctx, denied, "unknown vendor"); err != nil {
		t.Fatal(err)
	}
	status, raw = token(denied, dsecret)
	checkOAuthError(t, status, raw, 400, "unauthorized_client")
	want := []string{"client.register", "approval.requested", "approval.denied"}
	if got := f.auditActions(t, denied); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit of the denied client = %v, want %v", got, want)
	}
	// A client registered for an API without the rule needs nothing.
	other, err := f.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Open", Audience: "https://open.example",
		Scopes: []string{"read"}, KeyPrefix: "open", Policy: api.Policy{DynamicClientScopes: []string{"read"}}})
	if err != nil {
		t.Fatal(err)
	}
	status, raw = f.post(t, "/oauth2/register", "application/json",
		`{"client_name":"open","grant_types":["client_credentials"],"tokend_api_scopes":{"`+other.ID+`":["read"]}}`, nil)
	if status != 201 || strings.Contains(string(raw), "tokend_approval") {
		t.Errorf("register for an open API: %d %s, want no approval", status, raw)
	}
}

// TestApprovalForwardAuth: forward-auth refuses a pending token 401
// invalid_token like a revoked one, and admits it once approved.
func TestApprovalForwardAuth(t *testing.T) {
	f := newPATFixture(t)
	f.gate(t)
	vkey := f.verifyKey(t)
	c := f.pat(t, f.alice.ID, api.CreateTokenRequest{Scopes: []string{"write"}})
	const path = "/v1/authz?audience=https%3A%2F%2Fpay.example&scope=write"
	resp := f.authz(t, "GET", path, vkey, proxied("GET", "/orders", c.Secret))
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="tokend", error="invalid_token"` {
		t.Errorf("forward-auth with a pending token: %d %q, want 401 invalid_token", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if _, err := f.Client.Approve(t.Context(), c.Token.ID, ""); err != nil {
		t.Fatal(err)
	}
	if resp := f.authz(t, "GET", path, vkey, proxied("GET", "/orders", c.Secret)); resp.StatusCode != 200 {
		t.Errorf("forward-auth with the approved token: %d, want 200", resp.StatusCode)
	}
}
