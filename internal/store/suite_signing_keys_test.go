package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newSigningKey(kid string, activeAt time.Time) SigningKey {
	return SigningKey{KID: kid, Alg: "ES256", PublicJWK: []byte(`{"kid":"` + kid + `"}`),
		Sealed: []byte("sealed-" + kid), CreatedAt: t0, ActiveAt: activeAt}
}

func mustListSigningKeys(t testing.TB, db *DB) []SigningKey {
	t.Helper()
	ks, err := db.ListSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func testSigningKeys(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	const publish = 2 * time.Hour

	// The first key is created only if there is none.
	k1 := newSigningKey("k1", t0)
	got, created, err := db.RotateSigningKey(ctx, k1, time.Time{}, publish, event("signing_key.create", "k1"))
	if err != nil || !created || got.KID != "k1" {
		t.Fatalf("first RotateSigningKey = %v, %v, %v", got.KID, created, err)
	}
	got, created, err = db.RotateSigningKey(ctx, newSigningKey("other", t0), time.Time{}, publish, event("signing_key.create", "other"))
	if err != nil || created || got.KID != "k1" {
		t.Fatalf("RotateSigningKey with zero cutoff and a key = %v, %v, %v; want k1 unchanged", got.KID, created, err)
	}

	// A rotation retires k1 at k2's activation and keeps it published.
	k2 := newSigningKey("k2", at(time.Hour))
	if _, created, err := db.RotateSigningKey(ctx, k2, at(time.Microsecond), publish, event("signing_key.rotate", "k2")); err != nil || !created {
		t.Fatalf("RotateSigningKey(k2) = %v, %v", created, err)
	}
	// k2 is newer than the cutoff: nothing happens.
	got, created, err = db.RotateSigningKey(ctx, newSigningKey("k3", at(2*time.Hour)), at(time.Microsecond), publish, event("signing_key.rotate", "k3"))
	if err != nil || created || got.KID != "k2" {
		t.Fatalf("RotateSigningKey with a pending key = %v, %v, %v; want k2", got.KID, created, err)
	}
	k1.RetiredAt, k1.ExpiresAt = at(time.Hour), at(time.Hour+publish)
	if diff := cmp.Diff([]SigningKey{k1, k2}, mustListSigningKeys(t, db)); diff != "" {
		t.Errorf("ListSigningKeys (-want +got):\n%s", diff)
	}
	if _, _, err := db.RotateSigningKey(ctx, newSigningKey("k2", at(3*time.Hour)), at(5*time.Hour), publish, event("x", "k2")); !errors.Is(err, ErrConflict) {
		t.Errorf("RotateSigningKey with a taken kid: %v, want ErrConflict", err)
	}
	bad := newSigningKey("k4", at(4*time.Hour))
	bad.RetiredAt = t0
	if _, _, err := db.RotateSigningKey(ctx, bad, at(5*time.Hour), publish, event("x", "k4")); err == nil {
		t.Error("RotateSigningKey accepted a retired key")
	}

	// Deleting expired keys removes k1 at its expiry, not before.
	for _, c := range []struct {
		before time.Time
		want   int64
	}{{at(time.Hour + publish - time.Microsecond), 0}, {at(time.Hour + publish), 1}, {at(100 * time.Hour), 0}} {
		n, err := db.DeleteExpiredSigningKeys(ctx, c.before)
		if err != nil || n != c.want {
			t.Errorf("DeleteExpiredSigningKeys(%v) = %d, %v; want %d", c.before, n, err, c.want)
		}
	}
	if diff := cmp.Diff([]SigningKey{k2}, mustListSigningKeys(t, db)); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	checkLog(t, db, "signing_key.create k1", "signing_key.rotate k2")
}

// testRotateSigningKeyConcurrent races rotations with the same cutoff, as
// nodes sharing a database do: exactly one creates a key.
func testRotateSigningKeyConcurrent(t *testing.T, h harness) {
	dsn := h.newDSN(t)
	dbs := []*DB{openDSN(t, dsn), openDSN(t, dsn)}
	ctx := t.Context()
	if _, _, err := dbs[0].RotateSigningKey(ctx, newSigningKey("first", t0), time.Time{}, time.Hour, event("signing_key.create", "first")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	created := make([]bool, n)
	errs := make([]error, n)
	runConcurrently(n, func(i int) {
		kid := fmt.Sprintf("k%d", i)
		_, created[i], errs[i] = dbs[i%2].RotateSigningKey(ctx, newSigningKey(kid, at(time.Hour)), at(time.Minute), time.Hour, event("signing_key.rotate", kid))
	})
	made := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("rotation %d: %v", i, errs[i])
		}
		if created[i] {
			made++
		}
	}
	if ks := mustListSigningKeys(t, dbs[0]); made != 1 || len(ks) != 2 {
		t.Errorf("%d of %d concurrent rotations created a key; store holds %d keys, want 2", made, n, len(ks))
	}
}

func testRevokedJTIs(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	for _, c := range []struct {
		jti string
		exp time.Time
	}{{"a", at(time.Hour)}, {"b", at(2 * time.Hour)}, {"a", at(3 * time.Hour)}} {
		if err := db.RevokeJTI(ctx, c.jti, c.exp, event("jwt.revoke", c.jti)); err != nil {
			t.Fatalf("RevokeJTI(%s): %v", c.jti, err)
		}
	}
	if err := db.RevokeJTI(ctx, "", at(time.Hour), event("jwt.revoke", "")); err == nil {
		t.Error("RevokeJTI accepted an empty jti")
	}
	if err := db.RevokeJTI(ctx, "c", time.Time{}, event("jwt.revoke", "c")); err == nil {
		t.Error("RevokeJTI accepted a zero expiry")
	}
	check := func(jti string, want bool) {
		t.Helper()
		got, err := db.IsJTIRevoked(ctx, jti)
		if err != nil || got != want {
			t.Errorf("IsJTIRevoked(%s) = %v, %v; want %v", jti, got, err, want)
		}
	}
	check("a", true)
	check("b", true)
	check("c", false)
	// The second revocation of a changed nothing: a still expires first.
	if n, err := db.DeleteExpiredJTIs(ctx, at(90*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredJTIs = %d, %v; want 1", n, err)
	}
	check("a", false)
	check("b", true)
	checkLog(t, db, "jwt.revoke a", "jwt.revoke b")
}
