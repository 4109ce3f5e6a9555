package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newPasskey(id, userID, cred string) Passkey {
	return Passkey{ID: id, UserID: userID, CredentialID: []byte(cred), PublicKey: []byte("cose-" + cred),
		AttestationType: "none", AttestationFormat: "none", AAGUID: make([]byte, 16), Transports: []string{"internal"},
		BackupEligible: true, Name: "key " + id, CreatedAt: t0}
}

func mustCreatePasskey(t testing.TB, db *DB, p Passkey) Passkey {
	t.Helper()
	if err := db.CreatePasskey(t.Context(), p, event("passkey.create", p.ID)); err != nil {
		t.Fatalf("CreatePasskey(%s): %v", p.ID, err)
	}
	return p
}

func testPasskeyHandles(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	first := bytes.Repeat([]byte{1}, 32)
	_, err := db.PasskeyHandleOf(ctx, "u1")
	checkErr(t, "PasskeyHandleOf before any handle", err, ErrNotFound)
	got, err := db.PasskeyHandle(ctx, "u1", first)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("PasskeyHandle(u1) = %x, %v; want the candidate %x", got, err, first)
	}
	got, err = db.PasskeyHandle(ctx, "u1", bytes.Repeat([]byte{2}, 32))
	if err != nil || !bytes.Equal(got, first) {
		t.Errorf("PasskeyHandle(u1) again = %x, %v; want the first handle %x, stable", got, err, first)
	}
	if got, err := db.PasskeyHandleOf(ctx, "u1"); err != nil || !bytes.Equal(got, first) {
		t.Errorf("PasskeyHandleOf(u1) = %x, %v; want %x", got, err, first)
	}
	_, err = db.PasskeyHandle(ctx, "u2", first)
	checkErr(t, "another user's handle", err, ErrConflict)
	_, err = db.PasskeyHandle(ctx, "nope", bytes.Repeat([]byte{3}, 32))
	checkErr(t, "PasskeyHandle(nope)", err, ErrNotFound)
	if id, err := db.PasskeyHandleUser(ctx, first); err != nil || id != "u1" {
		t.Errorf("PasskeyHandleUser = %q, %v; want u1", id, err)
	}
	_, err = db.PasskeyHandleUser(ctx, bytes.Repeat([]byte{2}, 32))
	checkErr(t, "PasskeyHandleUser(unknown)", err, ErrNotFound)
	if err := db.DeleteUser(ctx, "u1", event("user.delete", "u1")); err != nil {
		t.Fatal(err)
	}
	_, err = db.PasskeyHandleUser(ctx, first)
	checkErr(t, "the handle of a deleted user", err, ErrNotFound)
}

func testPasskeys(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	a := mustCreatePasskey(t, db, newPasskey("pk1", "u1", "cred-a"))
	b := newPasskey("pk2", "u1", "cred-b")
	b.CreatedAt, b.Transports, b.AAGUID, b.SignCount = at(time.Second), nil, []byte("0123456789abcdef"), 7
	mustCreatePasskey(t, db, b)
	b.Transports = []string{}
	mustCreatePasskey(t, db, newPasskey("pk3", "u2", "cred-c"))
	checkErr(t, "a taken credential id", db.CreatePasskey(ctx, newPasskey("pk4", "u2", "cred-a"), event("x", "pk4")), ErrConflict)
	checkErr(t, "a taken id", db.CreatePasskey(ctx, newPasskey("pk1", "u2", "cred-d"), event("x", "pk1")), ErrConflict)
	checkErr(t, "an unknown user", db.CreatePasskey(ctx, newPasskey("pk5", "nope", "cred-e"), event("x", "pk5")), ErrNotFound)
	got, err := db.Passkeys(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Passkey{a, b}, got); diff != "" {
		t.Errorf("Passkeys(u1) (-want +got):\n%s", diff)
	}
	if n, err := db.CountPasskeys(ctx, "u1"); err != nil || n != 2 {
		t.Errorf("CountPasskeys(u1) = %d, %v; want 2", n, err)
	}
	p, err := db.PasskeyByCredentialID(ctx, []byte("cred-c"))
	if err != nil || p.ID != "pk3" || p.UserID != "u2" {
		t.Errorf("PasskeyByCredentialID(cred-c) = %s of %s, %v; want pk3 of u2", p.ID, p.UserID, err)
	}
	_, err = db.PasskeyByCredentialID(ctx, []byte("cred-x"))
	checkErr(t, "PasskeyByCredentialID(unknown)", err, ErrNotFound)
	checkLog(t, db, "user.create u1", "user.create u2", "passkey.create pk1", "passkey.create pk2", "passkey.create pk3")
}

func testRenameDeletePasskey(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	mustCreatePasskey(t, db, newPasskey("pk1", "u1", "cred-a"))
	mustCreatePasskey(t, db, newPasskey("pk2", "u2", "cred-b"))
	rename := func(name string) func(*Passkey) (Event, error) {
		return func(p *Passkey) (Event, error) { p.Name = name; return event("passkey.rename", p.ID), nil }
	}
	_, err := db.RenamePasskey(ctx, "u2", "pk1", rename("mine"))
	checkErr(t, "renaming another user's passkey", err, ErrNotFound)
	refuse := errors.New("refused")
	_, err = db.RenamePasskey(ctx, "u1", "pk1", func(*Passkey) (Event, error) { return Event{}, refuse })
	checkErr(t, "a rename refused by the callback", err, refuse)
	if p, err := db.RenamePasskey(ctx, "u1", "pk1", rename("laptop")); err != nil || p.Name != "laptop" {
		t.Errorf("RenamePasskey = %q, %v; want laptop", p.Name, err)
	}
	del := func(p Passkey) (Event, error) { return event("passkey.delete", p.ID), nil }
	checkErr(t, "deleting another user's passkey", db.DeletePasskey(ctx, "u2", "pk1", del), ErrNotFound)
	if err := db.DeletePasskey(ctx, "u1", "pk1", del); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "deleting it again", db.DeletePasskey(ctx, "u1", "pk1", del), ErrNotFound)
	if ps, err := db.Passkeys(ctx, "u1"); err != nil || len(ps) != 0 {
		t.Errorf("Passkeys(u1) after delete = %v, %v; want none", ps, err)
	}
	if err := db.DeleteUser(ctx, "u2", event("user.delete", "u2")); err != nil {
		t.Fatal(err)
	}
	_, err = db.PasskeyByCredentialID(ctx, []byte("cred-b"))
	checkErr(t, "the passkey of a deleted user", err, ErrNotFound)
	checkLog(t, db, "user.create u1", "user.create u2", "passkey.create pk1", "passkey.create pk2",
		"passkey.rename pk1", "passkey.delete pk1", "user.delete u2")
}

func testUsePasskey(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	counted := newPasskey("pk1", "u1", "cred-a")
	counted.SignCount = 5
	mustCreatePasskey(t, db, counted)
	mustCreatePasskey(t, db, newPasskey("pk2", "u1", "cred-b"))
	use := func(n uint32, d time.Duration) PasskeyUse {
		return PasskeyUse{SignCount: n, UserVerified: true, BackupState: true, At: at(d)}
	}
	if err := db.UsePasskey(ctx, "pk1", use(6, time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint32{6, 5, 0} {
		checkErr(t, "a counter that did not increase", db.UsePasskey(ctx, "pk1", use(n, time.Hour)), ErrStaleSignCount)
	}
	p, err := db.PasskeyByCredentialID(ctx, []byte("cred-a"))
	if err != nil || p.SignCount != 6 || !p.LastUsedAt.Equal(at(time.Minute)) || !p.UserVerified || !p.BackupState {
		t.Errorf("after use: %+v, %v; want count 6, used at +1m, UV and BS", p, err)
	}
	for range 2 { // no counter: 0 stays acceptable
		if err := db.UsePasskey(ctx, "pk2", use(0, time.Minute)); err != nil {
			t.Errorf("UsePasskey(pk2, 0): %v", err)
		}
	}
	if err := db.UsePasskey(ctx, "pk2", use(3, time.Minute)); err != nil {
		t.Errorf("UsePasskey(pk2, 3): %v", err)
	}
	checkErr(t, "back to 0 after a counter", db.UsePasskey(ctx, "pk2", use(0, time.Hour)), ErrStaleSignCount)
	checkErr(t, "UsePasskey(unknown)", db.UsePasskey(ctx, "nope", use(9, time.Hour)), ErrNotFound)

	var won atomic.Int32
	runConcurrently(8, func(int) {
		if err := db.UsePasskey(ctx, "pk1", use(10, 2*time.Minute)); err == nil {
			won.Add(1)
		} else if !errors.Is(err, ErrStaleSignCount) {
			t.Errorf("concurrent UsePasskey: %v", err)
		}
	})
	if won.Load() != 1 {
		t.Errorf("%d concurrent uses of one counter value succeeded, want 1", won.Load())
	}
}

func testPasskeyCeremonies(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	c := func(seed, user string, exp time.Duration) PasskeyCeremony {
		return PasskeyCeremony{Hash: sha256.Sum256([]byte(seed)), Kind: "login", UserID: user,
			Session: []byte(`{"challenge":"` + seed + `"}`), ExpiresAt: at(exp)}
	}
	for _, cr := range []PasskeyCeremony{c("a", "u1", time.Minute), c("b", "", time.Minute), c("old", "", time.Second)} {
		if err := db.CreatePasskeyCeremony(ctx, cr, t0); err != nil {
			t.Fatal(err)
		}
	}
	checkErr(t, "a ceremony for an unknown user", db.CreatePasskeyCeremony(ctx, c("x", "nope", time.Minute), t0), ErrNotFound)
	checkErr(t, "a duplicate ceremony", db.CreatePasskeyCeremony(ctx, c("a", "u1", time.Minute), t0), ErrConflict)
	_, err := db.TakePasskeyCeremony(ctx, c("a", "", 0).Hash, "register", t0)
	checkErr(t, "a ceremony of another kind", err, ErrNotFound)
	got, err := db.TakePasskeyCeremony(ctx, c("a", "", 0).Hash, "login", t0)
	if want := c("a", "u1", time.Minute); err != nil || !cmp.Equal(want, got) {
		t.Errorf("TakePasskeyCeremony(a) = %+v, %v; want %+v", got, err, want)
	}
	_, err = db.TakePasskeyCeremony(ctx, c("a", "", 0).Hash, "login", t0)
	checkErr(t, "a ceremony taken twice", err, ErrNotFound)
	_, err = db.TakePasskeyCeremony(ctx, c("b", "", 0).Hash, "login", at(time.Minute))
	checkErr(t, "an expired ceremony", err, ErrNotFound)
	if got, err := db.TakePasskeyCeremony(ctx, c("b", "", 0).Hash, "login", t0); err != nil || got.UserID != "" {
		t.Errorf("TakePasskeyCeremony(b) = %+v, %v; want the discoverable ceremony", got, err)
	}
	// A new ceremony sweeps the expired ones.
	if err := db.CreatePasskeyCeremony(ctx, c("new", "", time.Hour), at(time.Second)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM passkey_ceremonies`).Scan(&n); err != nil || n != 1 {
		t.Errorf("ceremonies after the sweep = %d, %v; want 1", n, err)
	}
}
