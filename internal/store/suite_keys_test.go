package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullKey sets every field, to check that each one round-trips.
func fullKey(id, apiID string) Key {
	k := newKey(id, apiID, "alice")
	k.ExpiresAt = at(24 * time.Hour)
	k.AllowedCIDRs = []string{"10.0.0.0/8", "2001:db8::/32"}
	k.RateLimits = []RateLimit{{Name: "burst", Limit: 10, Window: time.Second}, {Name: "day", Limit: 1e6, Window: 24 * time.Hour}}
	k.Credits = &Credits{Remaining: 7, RefillAmount: 100, RefillInterval: time.Hour, RefilledAt: t0}
	k.Metadata = []byte(`{"team":"payments","n":1}`)
	k.Enabled = false
	k.SigningAlg, k.SigningKey = "hmac-sha256", []byte{0, 1, 2, 0xff}
	return k
}

func testCreateKey(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	a := mustCreateAPI(t, db, "a")
	k := fullKey("k1", "a")
	s := mustCreateKey(t, db, k)
	plain := newKey("k2", "a", "bob") // nil and empty values stay apart
	plain.Scopes, plain.AllowedCIDRs = nil, []string{}
	mustCreateKey(t, db, plain)

	for _, want := range []Key{k, plain} {
		if diff := cmp.Diff(want, mustKey(t, db, want.ID)); diff != "" {
			t.Errorf("KeyByID(%s) (-want +got):\n%s", want.ID, diff)
		}
	}
	vr, err := db.KeyBySecretHash(ctx, s.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(VerifyRecord{Secret: s, Key: k, Audience: a.Audience}, vr); diff != "" {
		t.Errorf("KeyBySecretHash (-want +got):\n%s", diff)
	}
	_, err = db.KeyBySecretHash(ctx, [32]byte{1})
	checkErr(t, "KeyBySecretHash(unknown)", err, ErrNotFound)
	_, err = db.KeyByID(ctx, "nope")
	checkErr(t, "KeyByID(nope)", err, ErrNotFound)

	err = db.CreateKey(ctx, newKey("k3", "nope", "x"), newSecret("s3", t0), event("key.create", "k3"))
	checkErr(t, "CreateKey for a missing API", err, ErrNotFound)
	err = db.CreateKey(ctx, newKey("k1", "a", "x"), newSecret("other", t0), event("key.create", "k1"))
	checkErr(t, "CreateKey with a taken ID", err, ErrConflict)
	dup := s
	dup.KeyID = ""
	err = db.CreateKey(ctx, newKey("k4", "a", "x"), dup, event("key.create", "k4"))
	checkErr(t, "CreateKey with a taken hash", err, ErrConflict)
	_, err = db.KeyByID(ctx, "k4")
	checkErr(t, "KeyByID of the key whose secret failed", err, ErrNotFound)
	checkLog(t, db, "api.create a", "key.create k1", "key.create k2")
}

func testListKeys(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	mustCreateAPI(t, db, "b")
	var all []Key
	for i := range 7 {
		k := newKey(keyID(i), []string{"a", "b"}[i%2], []string{"alice", "bob", "carol"}[i%3])
		mustCreateKey(t, db, k)
		all = append(all, k)
	}
	ids := func(f KeyFilter) []string {
		t.Helper()
		var out []string
		for {
			page, err := db.ListKeys(ctx, f)
			if err != nil {
				t.Fatalf("ListKeys(%+v): %v", f, err)
			}
			if len(page) > f.Limit {
				t.Fatalf("ListKeys(%+v) returned %d keys", f, len(page))
			}
			for _, k := range page {
				out = append(out, k.ID)
			}
			if len(page) < f.Limit {
				return out
			}
			f.After = page[len(page)-1].ID
		}
	}
	tests := []struct {
		f    KeyFilter
		want []string
	}{
		{KeyFilter{Limit: 100}, []string{"key000", "key001", "key002", "key003", "key004", "key005", "key006"}},
		{KeyFilter{Limit: 2}, []string{"key000", "key001", "key002", "key003", "key004", "key005", "key006"}},
		{KeyFilter{APIID: "a", Limit: 1}, []string{"key000", "key002", "key004", "key006"}},
		{KeyFilter{Subject: "bob", Limit: 100}, []string{"key001", "key004"}},
		{KeyFilter{APIID: "a", Subject: "alice", Limit: 3}, []string{"key000", "key006"}},
		{KeyFilter{After: "key004", Limit: 100}, []string{"key005", "key006"}},
		{KeyFilter{APIID: "nope", Limit: 100}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ids(tt.f)); diff != "" {
			t.Errorf("ListKeys(%+v) (-want +got):\n%s", tt.f, diff)
		}
	}
	got, err := db.ListKeys(ctx, KeyFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("ListKeys returned keys (-want +got):\n%s", diff)
	}
}

func testUpdateKey(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	orig := fullKey("k1", "a")
	mustCreateKey(t, db, orig)

	errStop := errors.New("stop")
	_, err := db.UpdateKey(ctx, "k1", func(k *Key) (Event, error) {
		k.Name, k.Enabled, k.Credits = "not saved", true, nil
		return event("key.update", "k1"), errStop
	})
	if err != errStop {
		t.Errorf("UpdateKey with failing callback: error %v, want errStop unchanged", err)
	}
	if diff := cmp.Diff(orig, mustKey(t, db, "k1")); diff != "" {
		t.Errorf("failed UpdateKey changed the key (-want +got):\n%s", diff)
	}

	got, err := db.UpdateKey(ctx, "k1", func(k *Key) (Event, error) {
		k.Name, k.Enabled, k.Credits, k.Metadata = "renamed", true, nil, nil
		k.RevokedAt, k.UpdatedAt = at(time.Minute), at(time.Minute)
		k.APIID, k.UsageCount = "other", 99 // immutable here
		return event("key.revoke", "k1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Name, want.Enabled, want.Credits, want.Metadata = "renamed", true, nil, nil
	want.RevokedAt, want.UpdatedAt = at(time.Minute), at(time.Minute)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateKey result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustKey(t, db, "k1")); diff != "" {
		t.Errorf("stored key (-want +got):\n%s", diff)
	}
	_, err = db.UpdateKey(ctx, "nope", func(*Key) (Event, error) { return event("x", "nope"), nil })
	checkErr(t, "UpdateKey(nope)", err, ErrNotFound)
	checkLog(t, db, "api.create a", "key.create k1", "key.revoke k1")
}

// testRequireSigned: the API's require_signed_requests reaches the
// verification record of each of its keys, and a public signing key
// round-trips.
func testRequireSigned(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	a := newAPI("a")
	a.Policy.RequireSignedRequests = true
	if err := db.CreateAPI(ctx, a, event("api.create", "a")); err != nil {
		t.Fatal(err)
	}
	k := newKey("k1", "a", "alice")
	k.SigningAlg, k.SigningKey = "ed25519", []byte("DER bytes")
	s := mustCreateKey(t, db, k)
	vr, err := db.KeyBySecretHash(ctx, s.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !vr.RequireSigned || vr.Key.SigningAlg != "ed25519" || string(vr.Key.SigningKey) != "DER bytes" {
		t.Errorf("KeyBySecretHash = RequireSigned %v, signing %q %q; want true, ed25519, DER bytes",
			vr.RequireSigned, vr.Key.SigningAlg, vr.Key.SigningKey)
	}
	got, err := db.APIByID(ctx, "a")
	if err != nil || !got.Policy.RequireSignedRequests {
		t.Errorf("APIByID = %+v, %v; want require_signed_requests", got.Policy, err)
	}
}
