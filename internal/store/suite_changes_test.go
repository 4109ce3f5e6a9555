package store

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// changes records what a DB delivers to its subscribers.
type changes struct {
	mu  sync.Mutex
	got []Change
}

func subscribe(t testing.TB, db *DB) *changes {
	c := &changes{}
	t.Cleanup(db.Subscribe(func(ch Change) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.got = append(c.got, ch)
	}))
	return c
}

// take returns what was delivered since the last take.
func (c *changes) take() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.got
	c.got = nil
	return got
}

// testChanges checks that every write that can alter a verification
// answer announces exactly what it affects, in process, once it returns;
// and that writes that cannot, announce nothing.
func testChanges(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	heard := subscribe(t, db)
	mustCreateAPI(t, db, "a")
	k := newKey("k1", "a", "s")
	sec := mustCreateKey(t, db, k)
	c := mustCreateClient(t, db, "c1")
	at1 := newAccess("t1", "c1", time.Hour)
	if err := db.CreateAccessToken(ctx, at1); err != nil {
		t.Fatal(err)
	}
	r1 := newRefresh("r1", "fam", "c1")
	r1.AccessJTI, r1.AccessExpiresAt = "jti-fam", at(time.Hour)
	a2 := newAccess("t2", "c1", time.Hour)
	a2.FamilyID = "fam"
	if err := db.IssueRefreshToken(ctx, r1, &a2); err != nil {
		t.Fatal(err)
	}
	want := []Change{{APIs: []string{"a"}}} // creating a client, a key or a token changes no answer
	check := func(what string, want []Change) {
		t.Helper()
		bySecret := cmpopts.SortSlices(func(a, b [32]byte) bool { return bytes.Compare(a[:], b[:]) < 0 })
		if diff := cmp.Diff(want, heard.take(), cmpopts.EquateEmpty(), bySecret); diff != "" {
			t.Errorf("%s announced (-want +got):\n%s", what, diff)
		}
	}
	check("creations", want)

	steps := []struct {
		name string
		do   func() error
		want Change
	}{
		{"UpdateKey", func() error {
			_, err := db.UpdateKey(ctx, k.ID, func(k *Key) (Event, error) { k.Enabled = false; return event("key.update", k.ID), nil })
			return err
		}, Change{Secrets: [][32]byte{sec.Hash}}},
		{"RevokeAccessToken", func() error {
			_, err := db.RevokeAccessToken(ctx, at1.Hash, t0, event("access_token.revoke", at1.ID))
			return err
		}, Change{Secrets: [][32]byte{at1.Hash}}},
		{"RevokeJTI", func() error { return db.RevokeJTI(ctx, "jti-1", at(time.Hour), event("jwt.revoke", "jti-1")) },
			Change{JTIs: []string{"jti-1"}}},
		{"RevokeRefreshFamily", func() error {
			_, err := db.RevokeRefreshFamily(ctx, "fam", t0, event("refresh_token.revoke", "fam"))
			return err
		}, Change{Secrets: [][32]byte{a2.Hash}, JTIs: []string{"jti-fam"}}},
		{"UpdateClient", func() error {
			_, err := db.UpdateClient(ctx, c.ID, func(c *Client) (Event, error) { c.Name = "n"; return event("client.update", c.ID), nil })
			return err
		}, Change{Clients: []string{c.ID}}},
		{"DeleteClient", func() error { _, err := db.DeleteClient(ctx, c.ID, event("client.delete", c.ID)); return err },
			Change{Clients: []string{c.ID}, Secrets: [][32]byte{at1.Hash, a2.Hash}}},
		{"RotateSigningKey", func() error {
			_, _, err := db.RotateSigningKey(ctx, newSigningKey("k1", t0), time.Time{}, time.Hour, event("signing_key.create", "k1"))
			return err
		}, Change{SigningKeys: true}},
		{"DeleteExpiredSigningKeys (none)", func() error { _, err := db.DeleteExpiredSigningKeys(ctx, t0); return err }, Change{}},
		{"UpdateAPI", func() error {
			_, err := db.UpdateAPI(ctx, "a", func(a *API) (Event, error) { a.Audience = "x"; return event("api.update", a.ID), nil })
			return err
		}, Change{APIs: []string{"a"}, Secrets: [][32]byte{sec.Hash}}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var want []Change
		if !s.want.IsZero() {
			want = []Change{s.want}
		}
		check(s.name, want)
	}
	// A write that fails announces nothing.
	_, err := db.UpdateKey(ctx, "nope", func(k *Key) (Event, error) { return event("key.update", "nope"), nil })
	checkErr(t, "UpdateKey(unknown)", err, ErrNotFound)
	check("a failed write", nil)
	if _, err := db.UpdateKey(ctx, k.ID, func(k *Key) (Event, error) { k.RevokedAt = t0; return event("key.revoke", k.ID), nil }); err != nil {
		t.Fatal(err)
	}
	heard.take()
	if err := db.DeleteAPI(ctx, "a", at(time.Hour), event("api.delete", "a")); err != nil {
		t.Fatal(err)
	}
	check("DeleteAPI", []Change{{APIs: []string{"a"}, Secrets: [][32]byte{sec.Hash}}})
}

func TestChangePayload(t *testing.T) {
	h1, h2 := sha256.Sum256([]byte("1")), sha256.Sum256([]byte("2"))
	many := Change{}
	for i := range 200 {
		many.Secrets = append(many.Secrets, sha256.Sum256([]byte{byte(i)}))
	}
	tests := []struct {
		name string
		in   Change
		want Change // after a round trip
	}{
		{"everything", Change{Secrets: [][32]byte{h1, h2}, JTIs: []string{"j1"}, Clients: []string{"cl_1"},
			APIs: []string{"api_1"}, Users: []string{"usr_1"}, SigningKeys: true},
			Change{Secrets: [][32]byte{h1, h2}, JTIs: []string{"j1"}, Clients: []string{"cl_1"},
				APIs: []string{"api_1"}, Users: []string{"usr_1"}, SigningKeys: true}},
		{"users only", Change{Users: []string{"usr_1", "usr_2"}}, Change{Users: []string{"usr_1", "usr_2"}}},
		{"a user id with a space", Change{Users: []string{"usr 1"}}, Change{All: true}},
		{"all", Change{All: true, JTIs: []string{"j"}}, Change{All: true}},
		{"too large for one notification", many, Change{All: true}},
		{"an id with a space", Change{JTIs: []string{"a b"}}, Change{All: true}},
		{"an empty id", Change{Clients: []string{""}}, Change{All: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in.Payload()
			if len(p) > 8000 {
				t.Errorf("payload has %d bytes, over PostgreSQL's limit", len(p))
			}
			if diff := cmp.Diff(tt.want, ParseChange(p), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseChange(Payload()) (-want +got):\n%s", diff)
			}
		})
	}
	for _, p := range []string{"*", "s:zz", "s:" + strings.Repeat("g", 64), "x:newer-kind", "j:", "u:", "k:x", "plain"} {
		if got := ParseChange(p); !got.All {
			t.Errorf("ParseChange(%q) = %+v, want All (unreadable means drop everything)", p, got)
		}
	}
	if got := ParseChange(""); !got.IsZero() {
		t.Errorf(`ParseChange("") = %+v, want nothing`, got)
	}
}
