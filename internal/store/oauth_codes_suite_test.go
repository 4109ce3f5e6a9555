package store

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testOAuthUserGrants runs the behaviour tests of the user grants
// (codes, device codes, consent, pushed requests); testOAuth lists it.
func testOAuthUserGrants(t *testing.T, h harness) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, h harness)
	}{
		{"ClientSettings", testClientSettings},
		{"AuthCodes", testAuthCodes},
		{"CodeRevocation", testCodeRevocation},
		{"DeviceCodes", testDeviceCodes},
		{"Grants", testGrants},
		{"PushedRequests", testPushedRequests},
		{"SweepCodes", testSweepCodes},
		{"DPoPBindings", testDPoPBindings},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, h)
		})
	}
}

// userGrantFixture creates API a, client c and user u.
func userGrantFixture(t testing.TB, db *DB) {
	t.Helper()
	mustCreateClient(t, db, "c")
	mustCreateUser(t, db, newUser("u", "alice"))
}

func newCode(seed string) AuthCode {
	return AuthCode{Hash: sha256.Sum256([]byte(seed)), ClientID: "c", UserID: "u", RedirectURI: "https://app.example/cb",
		Challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", APIID: "a", Scopes: []string{"openid", "read"},
		Nonce: "n-0S6_WzA2Mj", AuthTime: t0, AMR: []string{"pwd"}, SessionID: "ses_1", CreatedAt: t0, ExpiresAt: at(time.Minute)}
}

func testClientSettings(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	c := newClient("c")
	c.AuthMethod, c.SecretHash, c.SecretStart, c.SecretEnd = "none", nil, "", ""
	c.RedirectURIs = []string{"https://app.example/cb", "http://127.0.0.1/cb"}
	c.PostLogoutRedirectURIs = []string{"https://app.example/bye"}
	c.FirstParty, c.IDTokenAlg, c.DPoPBound = true, "ES256", true
	c.Meta = ClientMeta{ClientURI: "https://app.example", LogoURI: "https://app.example/logo.png",
		Contacts: []string{"ops@app.example"}, ApplicationType: "native", Scope: "openid profile"}
	if err := db.CreateClient(ctx, c, event("client.create", "c")); err != nil {
		t.Fatal(err)
	}
	got, err := db.ClientByID(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("ClientByID (-want +got):\n%s", diff)
	}
	upd, err := db.UpdateClient(ctx, "c", func(c *Client) (Event, error) {
		c.RedirectURIs, c.FirstParty, c.Meta.Scope, c.DPoPBound = []string{"https://app.example/other"}, false, "", false
		return event("client.update", "c"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ClientByID(ctx, "c"); !cmp.Equal(got, upd) || got.FirstParty || got.DPoPBound || len(got.RedirectURIs) != 1 {
		t.Errorf("after UpdateClient: %s", cmp.Diff(upd, got))
	}
}

func testAuthCodes(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	c := newCode("code1")
	if err := db.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "CreateAuthCode(duplicate)", db.CreateAuthCode(ctx, c), ErrConflict)
	bad := newCode("code2")
	bad.UserID = "nobody"
	checkErr(t, "CreateAuthCode(unknown user)", db.CreateAuthCode(ctx, bad), ErrNotFound)
	got, err := db.AuthCodeByHash(ctx, c.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("AuthCodeByHash (-want +got):\n%s", diff)
	}
	_, err = db.AuthCodeByHash(ctx, sha256.Sum256([]byte("nope")))
	checkErr(t, "AuthCodeByHash(nope)", err, ErrNotFound)

	rt := newRefresh("rt1", "fam1", "c")
	rt.Subject = "u"
	r := Redemption{Issued: Issued{FamilyID: "fam1", AccessJTI: "jti1", AccessExpiresAt: at(time.Hour)}, Refresh: &rt}
	if err := db.RedeemAuthCode(ctx, c.Hash, at(time.Second), r); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "RedeemAuthCode(again)", db.RedeemAuthCode(ctx, c.Hash, at(2*time.Second), r), ErrTokenUsed)
	checkErr(t, "RedeemAuthCode(nope)", db.RedeemAuthCode(ctx, sha256.Sum256([]byte("nope")), t0, r), ErrNotFound)
	got, _ = db.AuthCodeByHash(ctx, c.Hash)
	if !got.UsedAt.Equal(at(time.Second)) || got.Issued != r.Issued {
		t.Errorf("redeemed code = used %v issued %+v, want %v %+v", got.UsedAt, got.Issued, at(time.Second), r.Issued)
	}
	if _, err := db.RefreshTokenByHash(ctx, rt.Hash); err != nil {
		t.Errorf("refresh token of the redemption: %v", err)
	}
	// A redemption whose tokens cannot be stored leaves the code unused.
	c3 := newCode("code3")
	if err := db.CreateAuthCode(ctx, c3); err != nil {
		t.Fatal(err)
	}
	dup := Redemption{Issued: Issued{FamilyID: "fam3"}, Refresh: &rt}
	checkErr(t, "RedeemAuthCode(taken refresh hash)", db.RedeemAuthCode(ctx, c3.Hash, t0, dup), ErrConflict)
	if got, _ := db.AuthCodeByHash(ctx, c3.Hash); !got.UsedAt.IsZero() {
		t.Errorf("failed redemption marked the code used")
	}
}

func testCodeRevocation(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	ch := subscribe(t, db)
	c := newCode("code1")
	if err := db.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	rt := newRefresh("rt1", "fam1", "c")
	rt.Subject = "u"
	at1 := newAccess("at1", "c", time.Hour)
	at1.Subject, at1.FamilyID = "u", "fam1"
	iss := Issued{FamilyID: "fam1", AccessJTI: "jti1", AccessExpiresAt: at(time.Hour)}
	if err := db.RedeemAuthCode(ctx, c.Hash, t0, Redemption{Issued: iss, Refresh: &rt, Access: &at1}); err != nil {
		t.Fatal(err)
	}
	ch.take()
	rev, err := db.RevokeIssued(ctx, iss, at(time.Minute), event("authorization_code.replay", "c"))
	if err != nil {
		t.Fatal(err)
	}
	if rev.RefreshTokens != 1 || !slices.Equal(rev.AccessHashes, [][32]byte{at1.Hash}) || !slices.Contains(rev.JTIs, "jti1") {
		t.Errorf("RevokeIssued = %+v", rev)
	}
	if ok, _ := db.IsJTIRevoked(ctx, "jti1"); !ok {
		t.Error("the code's JWT is not revoked")
	}
	if got, _ := db.RefreshTokenByHash(ctx, rt.Hash); got.RevokedAt.IsZero() {
		t.Error("the code's refresh token is not revoked")
	}
	if got, _ := db.AccessTokenByHash(ctx, at1.Hash); got.Token.RevokedAt.IsZero() {
		t.Error("the code's opaque access token is not revoked")
	}
	changes := ch.take()
	if len(changes) != 1 || !slices.Contains(changes[0].JTIs, "jti1") || !slices.Contains(changes[0].Secrets, at1.Hash) {
		t.Errorf("announced %+v, want the jti and the access token", changes)
	}
	checkLog(t, db, "api.create a", "client.create c", "user.create u", "authorization_code.replay c")
}

func testDeviceCodes(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	d := DeviceCode{Hash: sha256.Sum256([]byte("dev1")), UserCode: "BCDFGHJK", ClientID: "c", APIID: "a",
		Scopes: []string{"read"}, Status: DevicePending, CreatedAt: t0, ExpiresAt: at(10 * time.Minute)}
	if err := db.CreateDeviceCode(ctx, d); err != nil {
		t.Fatal(err)
	}
	d2 := d
	d2.Hash = sha256.Sum256([]byte("dev2"))
	checkErr(t, "CreateDeviceCode(taken user code)", db.CreateDeviceCode(ctx, d2), ErrConflict)

	prev, err := db.PollDeviceCode(ctx, d.Hash, at(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, prev); diff != "" {
		t.Errorf("first PollDeviceCode (-want +got):\n%s", diff)
	}
	prev, _ = db.PollDeviceCode(ctx, d.Hash, at(10*time.Second))
	if !prev.PolledAt.Equal(at(5 * time.Second)) {
		t.Errorf("second poll saw polled_at %v, want %v", prev.PolledAt, at(5*time.Second))
	}
	_, err = db.PollDeviceCode(ctx, sha256.Sum256([]byte("nope")), t0)
	checkErr(t, "PollDeviceCode(nope)", err, ErrNotFound)

	checkErr(t, "RedeemDeviceCode(pending)", db.RedeemDeviceCode(ctx, d.Hash, Redemption{}), ErrTokenUsed)
	approve := DeviceDecision{Status: DeviceApproved, UserID: "u", AuthTime: t0, AMR: []string{"pwd", "otp", "mfa"}}
	_, err = db.DecideDeviceCode(ctx, "BCDFGHJK", at(11*time.Minute), approve)
	checkErr(t, "DecideDeviceCode(expired)", err, ErrNotFound)
	got, err := db.DecideDeviceCode(ctx, "BCDFGHJK", at(time.Minute), approve)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != DeviceApproved || got.UserID != "u" || !slices.Equal(got.AMR, approve.AMR) {
		t.Errorf("DecideDeviceCode = %+v", got)
	}
	_, err = db.DecideDeviceCode(ctx, "BCDFGHJK", at(time.Minute), DeviceDecision{Status: DeviceDenied})
	checkErr(t, "DecideDeviceCode(decided)", err, ErrTokenUsed)
	_, err = db.DecideDeviceCode(ctx, "XXXXXXXX", at(time.Minute), approve)
	checkErr(t, "DecideDeviceCode(unknown)", err, ErrNotFound)

	iss := Issued{FamilyID: "fam", AccessJTI: "jti", AccessExpiresAt: at(time.Hour)}
	if err := db.RedeemDeviceCode(ctx, d.Hash, Redemption{Issued: iss}); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "RedeemDeviceCode(again)", db.RedeemDeviceCode(ctx, d.Hash, Redemption{Issued: iss}), ErrTokenUsed)
	got, err = db.DeviceCodeByUserCode(ctx, "BCDFGHJK")
	if err != nil || got.Status != DeviceUsed || got.Issued != iss || !got.AuthTime.Equal(t0) {
		t.Errorf("DeviceCodeByUserCode = %+v, %v", got, err)
	}
}

func testGrants(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	ch := subscribe(t, db)
	g := Grant{UserID: "u", ClientID: "c", Scopes: []string{"openid", "read"}, APIIDs: []string{"a"}, CreatedAt: t0, LastUsedAt: t0}
	if err := db.SaveGrant(ctx, g, event("grant.create", "c")); err != nil {
		t.Fatal(err)
	}
	got, err := db.GrantFor(ctx, "u", "c")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, got); diff != "" {
		t.Errorf("GrantFor (-want +got):\n%s", diff)
	}
	g2 := g
	g2.Scopes, g2.CreatedAt, g2.LastUsedAt = []string{"openid", "read", "email"}, at(time.Hour), at(time.Hour)
	if err := db.SaveGrant(ctx, g2, event("grant.update", "c")); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GrantFor(ctx, "u", "c")
	if !got.CreatedAt.Equal(t0) || len(got.Scopes) != 3 || !got.LastUsedAt.Equal(at(time.Hour)) {
		t.Errorf("after replacing, GrantFor = %+v", got)
	}
	if err := db.TouchGrant(ctx, "u", "c", at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListGrants(ctx, "u")
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(at(2*time.Hour)) {
		t.Errorf("ListGrants = %+v, %v", list, err)
	}
	checkErr(t, "SaveGrant(unknown user)", db.SaveGrant(ctx, Grant{UserID: "x", ClientID: "c", CreatedAt: t0, LastUsedAt: t0},
		event("grant.create", "c")), ErrNotFound)

	// Tokens the client holds for the user: a family with a JWT, an
	// opaque access token, a code's JWT. Another user's stay.
	mustCreateUser(t, db, newUser("v", "bob"))
	rt := newRefresh("rt1", "fam1", "c")
	rt.Subject, rt.AccessJTI, rt.AccessExpiresAt = "u", "jti-rt", at(time.Hour)
	other := newRefresh("rt2", "fam2", "c")
	other.Subject = "v"
	for _, r := range []RefreshToken{rt, other} {
		if err := db.IssueRefreshToken(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	at1 := newAccess("at1", "c", time.Hour)
	at1.Subject = "u"
	if err := db.CreateAccessToken(ctx, at1); err != nil {
		t.Fatal(err)
	}
	c := newCode("code1")
	if err := db.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.RedeemAuthCode(ctx, c.Hash, t0, Redemption{Issued: Issued{FamilyID: "fam3", AccessJTI: "jti-code", AccessExpiresAt: at(3 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	ch.take()
	rev, err := db.RevokeGrant(ctx, "u", "c", at(2*time.Hour), event("grant.revoke", "c"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rev.JTIs)
	if rev.RefreshTokens != 1 || !slices.Equal(rev.JTIs, []string{"jti-code"}) || len(rev.AccessHashes) != 1 {
		// jti-rt expired at 1h, before the revocation at 2h.
		t.Errorf("RevokeGrant = %+v", rev)
	}
	if got, _ := db.RefreshTokenByHash(ctx, other.Hash); !got.RevokedAt.IsZero() {
		t.Error("RevokeGrant revoked another user's refresh token")
	}
	_, err = db.GrantFor(ctx, "u", "c")
	checkErr(t, "GrantFor(revoked)", err, ErrNotFound)
	_, err = db.RevokeGrant(ctx, "u", "c", at(2*time.Hour), event("grant.revoke", "c"))
	checkErr(t, "RevokeGrant(again)", err, ErrNotFound)
	changes := ch.take()
	if len(changes) != 1 || !slices.Contains(changes[0].JTIs, "jti-code") || !slices.Contains(changes[0].Secrets, at1.Hash) {
		t.Errorf("announced %+v", changes)
	}
}

func testPushedRequests(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	p := PushedRequest{Hash: sha256.Sum256([]byte("req1")), ClientID: "c", Params: []byte(`{"state":"x"}`), ExpiresAt: at(time.Minute)}
	if err := db.CreatePushedRequest(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.TakePushedRequest(ctx, p.Hash, at(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("TakePushedRequest (-want +got):\n%s", diff)
	}
	_, err = db.TakePushedRequest(ctx, p.Hash, at(time.Second))
	checkErr(t, "TakePushedRequest(again)", err, ErrNotFound)

	late := PushedRequest{Hash: sha256.Sum256([]byte("req2")), ClientID: "c", Params: []byte(`{}`), ExpiresAt: at(time.Minute)}
	if err := db.CreatePushedRequest(ctx, late); err != nil {
		t.Fatal(err)
	}
	_, err = db.TakePushedRequest(ctx, late.Hash, at(time.Minute))
	checkErr(t, "TakePushedRequest(expired)", err, ErrNotFound)
	bad := PushedRequest{Hash: sha256.Sum256([]byte("req3")), ClientID: "nope", Params: []byte(`{}`), ExpiresAt: at(time.Minute)}
	checkErr(t, "CreatePushedRequest(unknown client)", db.CreatePushedRequest(ctx, bad), ErrNotFound)
}

func testSweepCodes(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	userGrantFixture(t, db)
	plain, issued := newCode("plain"), newCode("issued")
	for _, c := range []AuthCode{plain, issued} {
		if err := db.CreateAuthCode(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	iss := Issued{FamilyID: "f", AccessJTI: "j", AccessExpiresAt: at(time.Hour)}
	if err := db.RedeemAuthCode(ctx, issued.Hash, t0, Redemption{Issued: iss}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteExpiredOAuth(ctx, at(10*time.Minute), 100); err != nil {
		t.Fatal(err)
	}
	_, err := db.AuthCodeByHash(ctx, plain.Hash)
	checkErr(t, "AuthCodeByHash(swept)", err, ErrNotFound)
	if _, err := db.AuthCodeByHash(ctx, issued.Hash); err != nil {
		t.Errorf("a code whose JWT still lives was swept: %v", err)
	}
	if _, err := db.DeleteExpiredOAuth(ctx, at(2*time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	_, err = db.AuthCodeByHash(ctx, issued.Hash)
	checkErr(t, "AuthCodeByHash(swept later)", err, ErrNotFound)
}

// testDPoPBindings: the DPoP key thumbprints of opaque access tokens,
// refresh tokens and codes are stored and read back.
func testDPoPBindings(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	userGrantFixture(t, db)
	const jkt = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	at := newAccess("bound-at", "c", time.Hour)
	at.JKT = jkt
	rt := newRefresh("bound-rt", "f1", "c")
	rt.JKT = jkt
	if err := db.IssueRefreshToken(ctx, rt, &at); err != nil {
		t.Fatal(err)
	}
	if got, err := db.AccessTokenByHash(ctx, at.Hash); err != nil || got.Token.JKT != jkt {
		t.Errorf("AccessTokenByHash = %+v, %v; want jkt %s", got.Token, err, jkt)
	}
	if got, err := db.RefreshTokenByHash(ctx, rt.Hash); err != nil || got.JKT != jkt {
		t.Errorf("RefreshTokenByHash = %+v, %v; want jkt %s", got, err, jkt)
	}
	code := newCode("bound-code")
	code.DPoPJKT = jkt
	if err := db.CreateAuthCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	if got, err := db.AuthCodeByHash(ctx, code.Hash); err != nil || got.DPoPJKT != jkt {
		t.Errorf("AuthCodeByHash = %+v, %v; want dpop_jkt %s", got, err, jkt)
	}
	plain := newAccess("plain-at", "c", time.Hour)
	if err := db.CreateAccessToken(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := db.AccessTokenByHash(ctx, plain.Hash); err != nil || got.Token.JKT != "" {
		t.Errorf("an unbound token reads back with jkt %q, %v", got.Token.JKT, err)
	}
}
