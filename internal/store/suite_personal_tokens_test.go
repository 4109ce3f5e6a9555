package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// newPAT is a personal access token of user owner for API apiID: a key
// with an owner.
func newPAT(id, apiID, owner string) Key {
	k := newKey(id, apiID, owner)
	k.UserID, k.Prefix, k.Scopes = owner, "tkpt", []string{"read"}
	return k
}

// testPersonalTokens: a personal access token is a key with an owner. It
// lists apart from API keys, verification reads its owner's state and its
// API's policy, and every change of its owner announces its secrets.
func testPersonalTokens(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	a := newAPI("a")
	a.Policy.UserScopes = []UserScopes{{Group: "eng", Scopes: []string{"read", "write"}}, {Everyone: true, Scopes: []string{}}}
	a.Policy.PATMaxTTL, a.Policy.PATAllowNoExpiry = 30*24*time.Hour, false
	if err := db.CreateAPI(ctx, a, event("api.create", "a")); err != nil {
		t.Fatal(err)
	}
	mustCreateUser(t, db, newUser("u1", "alice", "eng"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	mustCreateKey(t, db, newKey("k1", "a", "u1"))
	p1 := mustCreateKey(t, db, newPAT("p1", "a", "u1"))
	p2 := mustCreateKey(t, db, newPAT("p2", "a", "u1"))
	mustCreateKey(t, db, newPAT("p3", "a", "u2"))
	err := db.CreateKey(ctx, newPAT("p4", "a", "nobody"), newSecret("secret-p4", t0), event("key.create", "p4"))
	checkErr(t, "CreateKey(owner unknown)", err, ErrNotFound)

	ids := func(f KeyFilter) []string {
		t.Helper()
		f.Limit = 100
		ks, err := db.ListKeys(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	for _, tt := range []struct {
		f    KeyFilter
		want []string
	}{
		{KeyFilter{}, []string{"k1"}},
		{KeyFilter{Subject: "u1"}, []string{"k1"}},
		{KeyFilter{Personal: true}, []string{"p1", "p2", "p3"}},
		{KeyFilter{Personal: true, UserID: "u1"}, []string{"p1", "p2"}},
		{KeyFilter{Personal: true, UserID: "u1", After: "p1"}, []string{"p2"}},
		{KeyFilter{Personal: true, UserID: "u3"}, nil},
	} {
		if got := ids(tt.f); !cmp.Equal(got, tt.want) {
			t.Errorf("ListKeys(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}

	vr, err := db.KeyBySecretHash(ctx, p1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if vr.Key.UserID != "u1" || vr.Owner == nil || !vr.Owner.Enabled || !cmp.Equal(vr.Owner.Groups, []string{"eng"}) {
		t.Errorf("KeyBySecretHash(PAT) = key owner %q, owner %+v; want u1, enabled, [eng]", vr.Key.UserID, vr.Owner)
	}
	if diff := cmp.Diff(a.Policy, vr.Policy, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("KeyBySecretHash(PAT) policy (-want +got):\n%s", diff)
	}
	if k := mustKey(t, db, "p1"); k.UserID != "u1" {
		t.Errorf("KeyByID(p1).UserID = %q, want u1", k.UserID)
	}

	heard := subscribe(t, db)
	bySecret := cmpopts.SortSlices(func(a, b [32]byte) bool { return bytes.Compare(a[:], b[:]) < 0 })
	_, err = db.UpdateUser(ctx, "u1", func(u *User) (Event, error) { u.Groups = nil; return event("user.update", "u1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Users: []string{"u1"}, Secrets: [][32]byte{p1.Hash, p2.Hash}}}
	if diff := cmp.Diff(want, heard.take(), cmpopts.EquateEmpty(), bySecret); diff != "" {
		t.Errorf("UpdateUser announced (-want +got):\n%s", diff)
	}
	if err := db.DeleteUser(ctx, "u1", event("user.delete", "u1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, heard.take(), cmpopts.EquateEmpty(), bySecret); diff != "" {
		t.Errorf("DeleteUser announced (-want +got):\n%s", diff)
	}
	_, err = db.KeyBySecretHash(ctx, p1.Hash)
	checkErr(t, "KeyBySecretHash(token of a deleted user)", err, ErrNotFound)
	if got := ids(KeyFilter{Personal: true}); !cmp.Equal(got, []string{"p3"}) {
		t.Errorf("personal tokens after DeleteUser(u1) = %v, want [p3]", got)
	}
	if got := ids(KeyFilter{}); !cmp.Equal(got, []string{"k1"}) {
		t.Errorf("API keys after DeleteUser(u1) = %v, want [k1]: an API key is not its subject's token", got)
	}
}
