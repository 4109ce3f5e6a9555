package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testAPIs(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	b := newAPI("b")
	b.CreatedAt = at(-time.Hour) // listed first
	b.Scopes, b.Policy.DefaultRateLimits = []string{}, nil
	if err := db.CreateAPI(ctx, b, event("api.create", "b")); err != nil {
		t.Fatal(err)
	}
	a := mustCreateAPI(t, db, "a")

	got, err := db.APIByID(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("APIByID (-want +got):\n%s", diff)
	}
	_, err = db.APIByID(ctx, "nope")
	checkErr(t, "APIByID(nope)", err, ErrNotFound)

	list, err := db.ListAPIs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]API{b, a}, list); diff != "" {
		t.Errorf("ListAPIs (-want +got):\n%s", diff)
	}

	for name, c := range map[string]struct {
		mod    func(*API)
		column string // what ConflictColumn names
	}{
		"id":       {func(x *API) { x.Audience, x.KeyPrefix = "other", "other_" }, ""},
		"audience": {func(x *API) { x.ID, x.KeyPrefix = "c", "c_" }, "audience"},
		"prefix":   {func(x *API) { x.ID, x.Audience = "c", "c" }, "key_prefix"},
	} {
		dup := newAPI("a")
		c.mod(&dup)
		err := db.CreateAPI(ctx, dup, event("api.create", "dup"))
		checkErr(t, "CreateAPI with duplicate "+name, err, ErrConflict)
		if got := ConflictColumn(err); got != c.column {
			t.Errorf("ConflictColumn(duplicate %s) = %q, want %q", name, got, c.column)
		}
	}

	// EnsureAPI inserts once, never overwrites and logs nothing.
	sys := newAPI("system")
	for range 2 {
		if err := db.EnsureAPI(ctx, sys); err != nil {
			t.Fatalf("EnsureAPI: %v", err)
		}
		sys.Name = "changed"
	}
	if got, _ := db.APIByID(ctx, "system"); got.Name != "API system" {
		t.Errorf("EnsureAPI overwrote: name %q", got.Name)
	}
	clash := newAPI("other")
	clash.Audience = a.Audience
	checkErr(t, "EnsureAPI with taken audience", db.EnsureAPI(ctx, clash), ErrConflict)
	checkLog(t, db, "api.create b", "api.create a")
}

func testUpdateAPI(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	a := mustCreateAPI(t, db, "a")
	mustCreateAPI(t, db, "b")

	got, err := db.UpdateAPI(ctx, "a", func(x *API) (Event, error) {
		x.Name, x.Scopes, x.UpdatedAt = "renamed", []string{"admin"}, at(time.Minute)
		x.Policy.RequireIPAllowlist = true
		x.ID, x.CreatedAt = "ignored", at(time.Hour) // immutable
		return event("api.update", "a"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Name, want.Scopes, want.UpdatedAt = "renamed", []string{"admin"}, at(time.Minute)
	want.Policy.RequireIPAllowlist = true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateAPI result (-want +got):\n%s", diff)
	}
	if stored, _ := db.APIByID(ctx, "a"); !cmp.Equal(want, stored) {
		t.Errorf("stored API = %+v, want %+v", stored, want)
	}

	_, err = db.UpdateAPI(ctx, "a", func(x *API) (Event, error) {
		x.Audience = "https://b.example"
		return event("api.update", "a"), nil
	})
	checkErr(t, "UpdateAPI to a taken audience", err, ErrConflict)

	errStop := errors.New("stop")
	_, err = db.UpdateAPI(ctx, "a", func(x *API) (Event, error) {
		x.Name = "not saved"
		return event("api.update", "a"), errStop
	})
	if err != errStop {
		t.Errorf("UpdateAPI with failing callback: error %v, want errStop unchanged", err)
	}
	if stored, _ := db.APIByID(ctx, "a"); stored.Name != "renamed" {
		t.Errorf("failed update saved name %q", stored.Name)
	}

	_, err = db.UpdateAPI(ctx, "nope", func(*API) (Event, error) {
		t.Error("callback called for a missing API")
		return Event{}, nil
	})
	checkErr(t, "UpdateAPI(nope)", err, ErrNotFound)
	checkLog(t, db, "api.create a", "api.create b", "api.update a")
}

func testDeleteAPI(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "a")
	mustCreateAPI(t, db, "b")
	live := newKey("k1", "a", "alice")
	s1 := mustCreateKey(t, db, live)
	expiring := newKey("k2", "a", "bob")
	expiring.ExpiresAt = at(time.Hour)
	mustCreateKey(t, db, expiring)
	mustCreateKey(t, db, newKey("k3", "b", "carol"))

	checkErr(t, "DeleteAPI with a live key", db.DeleteAPI(ctx, "a", t0, event("api.delete", "a")), ErrInUse)
	_, err := db.UpdateKey(ctx, "k1", func(k *Key) (Event, error) {
		k.RevokedAt = t0
		return event("key.revoke", "k1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// k2 is live until its expiry passes.
	checkErr(t, "DeleteAPI with an unexpired key", db.DeleteAPI(ctx, "a", at(time.Hour-1), event("api.delete", "a")), ErrInUse)
	if err := db.DeleteAPI(ctx, "a", at(time.Hour), event("api.delete", "a")); err != nil {
		t.Fatalf("DeleteAPI: %v", err)
	}

	_, err = db.APIByID(ctx, "a")
	checkErr(t, "APIByID after delete", err, ErrNotFound)
	_, err = db.KeyByID(ctx, "k1")
	checkErr(t, "KeyByID after delete", err, ErrNotFound)
	_, err = db.KeyBySecretHash(ctx, s1.Hash)
	checkErr(t, "KeyBySecretHash after delete", err, ErrNotFound)
	if ss, err := db.SecretsOfKey(ctx, "k1"); err != nil || len(ss) != 0 {
		t.Errorf("SecretsOfKey after delete = %v, %v; want none", ss, err)
	}
	mustKey(t, db, "k3") // another API's key stays
	checkErr(t, "DeleteAPI(nope)", db.DeleteAPI(ctx, "nope", t0, event("api.delete", "nope")), ErrNotFound)
	checkLog(t, db, "api.create a", "api.create b", "key.create k1", "key.create k2", "key.create k3",
		"key.revoke k1", "api.delete a")
}
