package store

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testOAuth runs the OAuth behaviour tests; runSuite lists it once.
func testOAuth(t *testing.T, h harness) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, h harness)
	}{
		{"Clients", testOAuthClients},
		{"AccessTokens", testOAuthAccessTokens},
		{"RefreshRotation", testOAuthRefreshRotation},
		{"RefreshFamilyRevocation", testOAuthRefreshFamily},
		{"ClientFamiliesRevocation", testOAuthClientFamilies},
		{"AssertionJTIs", testOAuthAssertionJTIs},
		{"Sweep", testOAuthSweep},
		{"UserGrants", testOAuthUserGrants},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, h)
		})
	}
}

func newClient(id string) Client {
	h := sha256.Sum256([]byte("secret-" + id))
	return Client{
		ID: id, Name: "client " + id, GrantTypes: []string{"client_credentials", "refresh_token"},
		APIScopes:      map[string][]string{"a": {"read"}},
		AccessTokenTTL: time.Hour, RefreshTokenTTL: 24 * time.Hour, TokenFormat: "opaque",
		AuthMethod: "client_secret_basic", SecretHash: h[:], SecretStart: "abcd", SecretEnd: "wxyz",
		CreatedAt: t0, UpdatedAt: t0,
	}
}

// mustCreateClient creates API a and client id, logging both.
func mustCreateClient(t testing.TB, db *DB, id string) Client {
	t.Helper()
	if _, err := db.APIByID(t.Context(), "a"); errors.Is(err, ErrNotFound) {
		mustCreateAPI(t, db, "a")
	}
	c := newClient(id)
	if err := db.CreateClient(t.Context(), c, event("client.create", id)); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return c
}

func testOAuthClients(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	c := mustCreateClient(t, db, "c1")
	got, err := db.ClientByID(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("ClientByID (-want +got):\n%s", diff)
	}
	_, err = db.ClientByID(ctx, "nope")
	checkErr(t, "ClientByID(nope)", err, ErrNotFound)
	checkErr(t, "CreateClient(duplicate)", db.CreateClient(ctx, c, event("client.create", "c1")), ErrConflict)

	// A dynamic client without a secret, found by its registration hash.
	d := newClient("c2")
	reg := sha256.Sum256([]byte("registration"))
	d.SecretHash, d.SecretStart, d.SecretEnd = nil, "", ""
	d.AuthMethod, d.JWKS, d.RegistrationHash, d.Dynamic = "private_key_jwt", []byte(`{"keys":[]}`), reg[:], true
	if err := db.CreateClient(ctx, d, event("client.register", "c2")); err != nil {
		t.Fatal(err)
	}
	got, err = db.ClientByRegistrationHash(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("ClientByRegistrationHash (-want +got):\n%s", diff)
	}
	list, err := db.ListClients(ctx, "", 1)
	if err != nil || len(list) != 1 || list[0].ID != "c1" {
		t.Errorf("ListClients first page = %v, %v", list, err)
	}
	list, err = db.ListClients(ctx, "c1", 10)
	if err != nil || len(list) != 1 || list[0].ID != "c2" {
		t.Errorf("ListClients second page = %v, %v", list, err)
	}

	upd, err := db.UpdateClient(ctx, "c1", func(c *Client) (Event, error) {
		c.Name, c.ID, c.Dynamic = "renamed", "ignored", true
		c.APIScopes = map[string][]string{"a": {"read", "write"}}
		c.UpdatedAt = at(time.Minute)
		return event("client.update", "c1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.ID != "c1" || upd.Dynamic || upd.Name != "renamed" {
		t.Errorf("UpdateClient = %+v", upd)
	}
	if got, _ := db.ClientByID(ctx, "c1"); !cmp.Equal(got, upd) {
		t.Errorf("after UpdateClient: %s", cmp.Diff(upd, got))
	}
	boom := errors.New("boom")
	_, err = db.UpdateClient(ctx, "c1", func(*Client) (Event, error) { return Event{}, boom })
	checkErr(t, "UpdateClient(callback error)", err, boom)
	_, err = db.UpdateClient(ctx, "nope", func(*Client) (Event, error) { return Event{}, nil })
	checkErr(t, "UpdateClient(nope)", err, ErrNotFound)
	_, err = db.UpdateClient(ctx, "c1", func(c *Client) (Event, error) {
		c.RegistrationHash = reg[:]
		return event("client.update", "c1"), nil
	})
	checkErr(t, "UpdateClient(taken registration hash)", err, ErrConflict)

	at1 := newAccess("c1-at", "c1", time.Hour)
	if err := db.CreateAccessToken(ctx, at1); err != nil {
		t.Fatal(err)
	}
	hashes, err := db.DeleteClient(ctx, "c1", event("client.delete", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][32]byte{at1.Hash}, hashes); diff != "" {
		t.Errorf("DeleteClient hashes (-want +got):\n%s", diff)
	}
	_, err = db.AccessTokenByHash(ctx, at1.Hash)
	checkErr(t, "AccessTokenByHash after DeleteClient", err, ErrNotFound)
	_, err = db.DeleteClient(ctx, "c1", event("client.delete", "c1"))
	checkErr(t, "DeleteClient twice", err, ErrNotFound)
	checkLog(t, db, "api.create a", "client.create c1", "client.register c2", "client.update c1", "client.delete c1")
}

func newAccess(seed, clientID string, ttl time.Duration) AccessToken {
	return AccessToken{Hash: sha256.Sum256([]byte(seed)), ID: "at_" + seed, ClientID: clientID, APIID: "a",
		Subject: clientID, Scopes: []string{"read"}, CreatedAt: t0, ExpiresAt: t0.Add(ttl)}
}

func newRefresh(seed, family, clientID string) RefreshToken {
	return RefreshToken{Hash: sha256.Sum256([]byte(seed)), ID: "rt_" + seed, FamilyID: family, ClientID: clientID,
		APIID: "a", Subject: clientID, Scopes: []string{"read"}, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

func testOAuthAccessTokens(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateClient(t, db, "c")
	tok := newAccess("t1", "c", time.Hour)
	if err := db.CreateAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "CreateAccessToken(duplicate)", db.CreateAccessToken(ctx, tok), ErrConflict)
	checkErr(t, "CreateAccessToken(unknown client)", db.CreateAccessToken(ctx, newAccess("t2", "nope", time.Hour)), ErrNotFound)
	rec, err := db.AccessTokenByHash(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(AccessRecord{Token: tok, Audience: "https://a.example"}, rec); diff != "" {
		t.Errorf("AccessTokenByHash (-want +got):\n%s", diff)
	}
	for i, want := range []bool{true, false} {
		changed, err := db.RevokeAccessToken(ctx, tok.Hash, at(time.Minute), event("access_token.revoke", tok.ID))
		if err != nil || changed != want {
			t.Errorf("RevokeAccessToken #%d = %v, %v; want %v", i+1, changed, err, want)
		}
	}
	rec, _ = db.AccessTokenByHash(ctx, tok.Hash)
	if !rec.Token.RevokedAt.Equal(at(time.Minute)) {
		t.Errorf("RevokedAt = %v, want %v", rec.Token.RevokedAt, at(time.Minute))
	}
	_, err = db.RevokeAccessToken(ctx, sha256.Sum256([]byte("nope")), t0, event("x", "y"))
	checkErr(t, "RevokeAccessToken(unknown)", err, ErrNotFound)
	checkLog(t, db, "api.create a", "client.create c", "access_token.revoke at_t1")
}

func testOAuthRefreshRotation(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateClient(t, db, "c")
	r1 := newRefresh("r1", "fam", "c")
	r1.IP = "203.0.113.7"
	a1 := newAccess("a1", "c", time.Hour)
	a1.FamilyID = "fam"
	if err := db.IssueRefreshToken(ctx, r1, &a1); err != nil {
		t.Fatal(err)
	}
	got, err := db.RefreshTokenByHash(ctx, r1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r1, got); diff != "" {
		t.Errorf("RefreshTokenByHash (-want +got):\n%s", diff)
	}
	r2 := newRefresh("r2", "fam", "c")
	r2.AccessJTI, r2.AccessExpiresAt = "jti-2", at(time.Hour)
	if err := db.RotateRefreshToken(ctx, r1.Hash, at(time.Minute), r2, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = db.RefreshTokenByHash(ctx, r1.Hash)
	if !got.UsedAt.Equal(at(time.Minute)) {
		t.Errorf("used_at = %v, want %v", got.UsedAt, at(time.Minute))
	}
	// A second rotation of r1 fails and writes nothing.
	r3 := newRefresh("r3", "fam", "c")
	err = db.RotateRefreshToken(ctx, r1.Hash, at(2*time.Minute), r3, nil)
	checkErr(t, "RotateRefreshToken(used)", err, ErrTokenUsed)
	_, err = db.RefreshTokenByHash(ctx, r3.Hash)
	checkErr(t, "successor of a refused rotation", err, ErrNotFound)
	err = db.RotateRefreshToken(ctx, sha256.Sum256([]byte("nope")), t0, r3, nil)
	checkErr(t, "RotateRefreshToken(unknown)", err, ErrNotFound)

	// Concurrent rotations of one token: exactly one wins.
	var wins, used int
	results := make([]error, 8)
	runConcurrently(8, func(i int) {
		next := newRefresh(keyID(i), "fam", "c")
		results[i] = db.RotateRefreshToken(ctx, r2.Hash, at(3*time.Minute), next, nil)
	})
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, ErrTokenUsed):
			used++
		default:
			t.Errorf("concurrent rotation: %v", err)
		}
	}
	if wins != 1 || used != 7 {
		t.Errorf("concurrent rotations: %d won, %d refused; want 1 and 7", wins, used)
	}
}

func testOAuthRefreshFamily(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateClient(t, db, "c")
	r1 := newRefresh("r1", "fam", "c")
	a1 := newAccess("a1", "c", time.Hour)
	a1.FamilyID = "fam"
	if err := db.IssueRefreshToken(ctx, r1, &a1); err != nil {
		t.Fatal(err)
	}
	r2 := newRefresh("r2", "fam", "c")
	r2.AccessJTI, r2.AccessExpiresAt = "jti-live", at(time.Hour)
	if err := db.RotateRefreshToken(ctx, r1.Hash, at(time.Minute), r2, nil); err != nil {
		t.Fatal(err)
	}
	r3 := newRefresh("r3", "fam", "c")
	r3.AccessJTI, r3.AccessExpiresAt = "jti-expired", at(time.Minute)
	if err := db.RotateRefreshToken(ctx, r2.Hash, at(2*time.Minute), r3, nil); err != nil {
		t.Fatal(err)
	}
	other := newRefresh("o1", "other", "c")
	if err := db.IssueRefreshToken(ctx, other, nil); err != nil {
		t.Fatal(err)
	}
	rev, err := db.RevokeRefreshFamily(ctx, "fam", at(3*time.Minute), event("refresh_token.reuse", "fam"))
	if err != nil {
		t.Fatal(err)
	}
	want := FamilyRevocation{AccessHashes: [][32]byte{a1.Hash}, RefreshTokens: 3, JTIs: []string{"jti-live"}}
	if diff := cmp.Diff(want, rev); diff != "" {
		t.Errorf("RevokeRefreshFamily (-want +got):\n%s", diff)
	}
	for _, r := range []RefreshToken{r1, r2, r3} {
		got, _ := db.RefreshTokenByHash(ctx, r.Hash)
		if got.RevokedAt.IsZero() {
			t.Errorf("refresh token %s not revoked", r.ID)
		}
	}
	if got, _ := db.RefreshTokenByHash(ctx, other.Hash); !got.RevokedAt.IsZero() {
		t.Error("a token of another family was revoked")
	}
	if rec, _ := db.AccessTokenByHash(ctx, a1.Hash); rec.Token.RevokedAt.IsZero() {
		t.Error("the family's access token was not revoked")
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM revoked_jtis WHERE jti = 'jti-live'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("revoked_jtis has jti-live %d times (%v), want 1", n, err)
	}
	// Again: nothing left to revoke, still not an error.
	rev, err = db.RevokeRefreshFamily(ctx, "fam", at(4*time.Minute), event("refresh_token.revoke", "fam"))
	if err != nil || rev.RefreshTokens != 0 || len(rev.AccessHashes) != 0 {
		t.Errorf("second RevokeRefreshFamily = %+v, %v", rev, err)
	}
	err = db.RotateRefreshToken(ctx, r3.Hash, at(5*time.Minute), newRefresh("r4", "fam", "c"), nil)
	checkErr(t, "RotateRefreshToken(revoked)", err, ErrTokenUsed)
}

// testOAuthClientFamilies revokes a client's families for one API and
// leaves its families for other APIs and other clients' alone.
func testOAuthClientFamilies(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateClient(t, db, "c")
	mustCreateClient(t, db, "d")
	mustCreateAPI(t, db, "b")
	a1 := newAccess("a1", "c", time.Hour)
	a1.FamilyID = "f1"
	r1 := newRefresh("r1", "f1", "c")
	r1.AccessJTI, r1.AccessExpiresAt = "jti-1", at(time.Hour)
	r2 := newRefresh("r2", "f2", "c")
	r2.APIID = "b"
	r3 := newRefresh("r3", "f3", "d")
	for _, rt := range []RefreshToken{r1, r2, r3} {
		var at *AccessToken
		if rt.ID == r1.ID {
			at = &a1
		}
		if err := db.IssueRefreshToken(ctx, rt, at); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := db.RevokeClientFamilies(ctx, "c", []string{"a"}, at(time.Minute), event("refresh_token.revoke", "c"))
	if err != nil {
		t.Fatal(err)
	}
	want := FamilyRevocation{AccessHashes: [][32]byte{a1.Hash}, RefreshTokens: 1, JTIs: []string{"jti-1"}}
	if diff := cmp.Diff(want, rev); diff != "" {
		t.Errorf("RevokeClientFamilies (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		rt      RefreshToken
		revoked bool
	}{{r1, true}, {r2, false}, {r3, false}} {
		got, _ := db.RefreshTokenByHash(ctx, tt.rt.Hash)
		if !got.RevokedAt.IsZero() != tt.revoked {
			t.Errorf("refresh token %s revoked = %v, want %v", tt.rt.ID, !got.RevokedAt.IsZero(), tt.revoked)
		}
	}
}

func testOAuthAssertionJTIs(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	if err := db.UseAssertionJTI(ctx, "c", "j1", at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "UseAssertionJTI(replay)", db.UseAssertionJTI(ctx, "c", "j1", at(time.Minute)), ErrConflict)
	if err := db.UseAssertionJTI(ctx, "d", "j1", at(time.Minute)); err != nil {
		t.Errorf("the same jti of another client: %v", err)
	}
}

func testOAuthSweep(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateClient(t, db, "c")
	short, long := newAccess("short", "c", time.Minute), newAccess("long", "c", time.Hour)
	for _, a := range []AccessToken{short, long} {
		if err := db.CreateAccessToken(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UseAssertionJTI(ctx, "c", "j", at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	expired := newAccess("short2", "c", 2*time.Minute)
	if err := db.CreateAccessToken(ctx, expired); err != nil {
		t.Fatal(err)
	}
	// Batches of 1: two tokens and one jti take two calls, then none.
	for i, want := range []int64{2, 1, 0} {
		n, err := db.DeleteExpiredOAuth(ctx, at(10*time.Minute), 1)
		if err != nil || n != want {
			t.Errorf("DeleteExpiredOAuth call %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if _, err := db.AccessTokenByHash(ctx, long.Hash); err != nil {
		t.Errorf("unexpired token swept: %v", err)
	}
	if err := db.UseAssertionJTI(ctx, "c", "j", at(time.Hour)); err != nil {
		t.Errorf("a swept jti is still remembered: %v", err)
	}
}
