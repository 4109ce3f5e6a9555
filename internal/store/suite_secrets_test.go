package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rotate rotates k1 to the secret seeded by seed, created at created.
func rotate(t testing.TB, db *DB, seed string, created, grace time.Time) (Secret, error) {
	t.Helper()
	s := newSecret(seed, created)
	_, err := db.RotateKey(t.Context(), "k1", s, grace, func(k *Key) (Event, error) {
		k.Start, k.End, k.UpdatedAt = s.Start, s.End, created
		return event("key.rotate", "k1"), nil
	})
	s.KeyID = "k1"
	return s, err
}

// checkSecrets compares the secrets of k1 with want, expiring at the
// given times.
func checkSecrets(t testing.TB, db *DB, want []Secret, expiries ...time.Time) {
	t.Helper()
	for i := range want {
		want[i].ExpiresAt = expiries[i]
	}
	got, err := db.SecretsOfKey(t.Context(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SecretsOfKey (-want +got):\n%s", diff)
	}
}

func testRotateKey(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	s1 := mustCreateKey(t, db, newKey("k1", "a", "alice"))
	s2, err := rotate(t, db, "second", at(time.Hour), at(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, db, []Secret{s1, s2}, at(2*time.Hour), time.Time{})
	for _, s := range []Secret{s1, s2} {
		vr, err := db.KeyBySecretHash(ctx, s.Hash)
		if err != nil {
			t.Fatalf("KeyBySecretHash(%s): %v", s.Start, err)
		}
		if vr.Key.Start != s2.Start || vr.Secret.Start != s.Start {
			t.Errorf("KeyBySecretHash(%s): key start %q, secret start %q", s.Start, vr.Key.Start, vr.Secret.Start)
		}
	}

	// A shorter grace period cuts every old secret short, the current one too.
	s3, err := rotate(t, db, "third", at(90*time.Minute), at(100*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	checkSecrets(t, db, []Secret{s1, s2, s3}, at(100*time.Minute), at(100*time.Minute), time.Time{})
	// A longer one extends none of them.
	s4, err := rotate(t, db, "fourth", at(95*time.Minute), at(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	all := []Secret{s1, s2, s3, s4}
	checkSecrets(t, db, all, at(100*time.Minute), at(100*time.Minute), at(3*time.Hour), time.Time{})

	errStop := errors.New("stop")
	_, err = db.RotateKey(ctx, "k1", newSecret("fifth", at(4*time.Hour)), at(4*time.Hour), func(*Key) (Event, error) {
		return Event{}, errStop
	})
	if err != errStop {
		t.Errorf("RotateKey with failing callback: error %v, want errStop unchanged", err)
	}
	checkSecrets(t, db, all, at(100*time.Minute), at(100*time.Minute), at(3*time.Hour), time.Time{})
	if k := mustKey(t, db, "k1"); k.Start != s4.Start {
		t.Errorf("key start = %q, want %q", k.Start, s4.Start)
	}

	_, err = rotate(t, db, "second", at(5*time.Hour), at(5*time.Hour))
	checkErr(t, "RotateKey to a used secret", err, ErrConflict)
	_, err = db.RotateKey(ctx, "nope", newSecret("sixth", t0), t0, func(*Key) (Event, error) { return Event{}, nil })
	checkErr(t, "RotateKey(nope)", err, ErrNotFound)
	checkLog(t, db, "api.create a", "key.create k1", "key.rotate k1", "key.rotate k1", "key.rotate k1")
}

func testDeleteExpiredSecrets(t *testing.T, h harness) {
	db := h.open(t)
	mustCreateAPI(t, db, "a")
	s1 := mustCreateKey(t, db, newKey("k1", "a", "alice"))
	s2, err := rotate(t, db, "second", t0, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		before time.Time
		want   int64
	}{
		{at(time.Hour), 0},                    // s1 expires at, not before, this
		{at(time.Hour + time.Microsecond), 1}, // s1
		{at(1000 * time.Hour), 0},             // the current secret never expires
	} {
		n, err := db.DeleteExpiredSecrets(t.Context(), tt.before)
		if err != nil || n != tt.want {
			t.Errorf("DeleteExpiredSecrets(%v) = %d, %v; want %d", tt.before, n, err, tt.want)
		}
	}
	checkSecrets(t, db, []Secret{s2}, time.Time{})
	_, err = db.KeyBySecretHash(t.Context(), s1.Hash)
	checkErr(t, "KeyBySecretHash of deleted secret", err, ErrNotFound)
}
