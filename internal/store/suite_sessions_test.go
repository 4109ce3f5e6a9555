package store

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func newSession(id, userID string, created time.Time) Session {
	return Session{ID: id, Hash: sha256.Sum256([]byte("token-" + id)), UserID: userID, AMR: []string{"pwd"},
		AuthTime: created, CreatedAt: created, LastSeenAt: created, ExpiresAt: created.Add(24 * time.Hour),
		IP: "192.0.2.7", UserAgent: "test/1.0"}
}

func mustCreateSession(t testing.TB, db *DB, s Session) Session {
	t.Helper()
	if err := db.CreateSession(t.Context(), s, event("session.create", s.ID)); err != nil {
		t.Fatalf("CreateSession(%s): %v", s.ID, err)
	}
	return s
}

func sessionIDs(t testing.TB, db *DB, userID string) []string {
	t.Helper()
	ss, err := db.SessionsOfUser(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

func testSessions(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	s1 := newSession("s1", "u1", t0)
	s1.Pending, s1.AMR = "second_factor", []string{"pwd", "otp"}
	mustCreateSession(t, db, s1)
	s2 := mustCreateSession(t, db, newSession("s2", "u1", at(time.Minute)))
	s3 := mustCreateSession(t, db, newSession("s3", "u2", t0))
	got, err := db.SessionByHash(ctx, s1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s1, got); diff != "" {
		t.Errorf("SessionByHash (-want +got):\n%s", diff)
	}
	_, err = db.SessionByHash(ctx, sha256.Sum256([]byte("unknown")))
	checkErr(t, "SessionByHash(unknown)", err, ErrNotFound)
	dup := newSession("s4", "u1", t0)
	dup.Hash = s1.Hash
	checkErr(t, "CreateSession(same hash)", db.CreateSession(ctx, dup, event("session.create", "s4")), ErrConflict)
	checkErr(t, "CreateSession(unknown user)", db.CreateSession(ctx, newSession("s5", "nope", t0), event("x", "s5")), ErrNotFound)
	if diff := cmp.Diff([]string{"s2", "s1"}, sessionIDs(t, db, "u1")); diff != "" {
		t.Errorf("SessionsOfUser newest first (-want +got):\n%s", diff)
	}

	// Touch only moves forward.
	if err := db.TouchSession(ctx, "s2", at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSession(ctx, "s2", at(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.SessionByHash(ctx, s2.Hash); !got.LastSeenAt.Equal(at(time.Hour)) {
		t.Errorf("LastSeenAt after touches = %v, want %v", got.LastSeenAt, at(time.Hour))
	}

	// Replace: the old token goes, the new one comes, for the same user only.
	next := newSession("s6", "u1", at(2*time.Minute))
	checkErr(t, "ReplaceSession of another user's session",
		db.ReplaceSession(ctx, s3.Hash, next, event("session.rotate", "s6")), ErrNotFound)
	if err := db.ReplaceSession(ctx, s1.Hash, next, event("session.rotate", "s6")); err != nil {
		t.Fatal(err)
	}
	_, err = db.SessionByHash(ctx, s1.Hash)
	checkErr(t, "SessionByHash(replaced)", err, ErrNotFound)
	checkErr(t, "ReplaceSession twice", db.ReplaceSession(ctx, s1.Hash, newSession("s7", "u1", t0), event("x", "s7")), ErrNotFound)

	// Deleting by id is scoped to the user.
	checkErr(t, "DeleteSession(other user)", db.DeleteSession(ctx, "u2", "s2", event("session.end", "s2")), ErrNotFound)
	if err := db.DeleteSession(ctx, "u1", "s2", event("session.end", "s2")); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "DeleteSession twice", db.DeleteSession(ctx, "u1", "s2", event("session.end", "s2")), ErrNotFound)
	if err := db.DeleteSessionByHash(ctx, s3.Hash, Event{}); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "DeleteSessionByHash twice", db.DeleteSessionByHash(ctx, s3.Hash, Event{}), ErrNotFound)
	checkLog(t, db, "user.create u1", "user.create u2", "session.create s1", "session.create s2", "session.create s3",
		"session.rotate s6", "session.end s2")
}

func testEndSessions(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	heard := subscribe(t, db)
	mustCreateUser(t, db, newUser("u1", "alice"))
	var ss []Session
	for _, id := range []string{"a", "b", "c", "d"} {
		ss = append(ss, mustCreateSession(t, db, newSession(id, "u1", t0)))
	}
	if got := heard.take(); len(got) != 0 {
		t.Errorf("creating a user and sessions announced %+v, want nothing", got)
	}
	bySecret := cmpopts.SortSlices(func(a, b [32]byte) bool { return bytes.Compare(a[:], b[:]) < 0 })
	n, err := db.DeleteUserSessions(ctx, "u1", "a", event("session.end_all", "u1"))
	if err != nil || n != 3 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 3", n, err)
	}
	want := []Change{{Secrets: [][32]byte{ss[1].Hash, ss[2].Hash, ss[3].Hash}}}
	if diff := cmp.Diff(want, heard.take(), bySecret, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("DeleteUserSessions announced (-want +got):\n%s", diff)
	}
	mustCreateSession(t, db, newSession("e", "u1", t0))
	// A rehash (a new hash, the same PasswordChangedAt) keeps sessions.
	if _, err := db.UpdateUser(ctx, "u1", func(u *User) (Event, error) { u.PasswordHash = "h1"; return event("user.rehash", "u1"), nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Change{{Users: []string{"u1"}}}, heard.take(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rehash announced (-want +got):\n%s", diff)
	}
	// A password change keeps only the session it came from.
	_, err = db.UpdateUserKeeping(ctx, "u1", "e", func(u *User) (Event, error) {
		u.PasswordHash, u.PasswordChangedAt = "h2", at(time.Minute)
		return event("user.change_password", "u1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"e"}, sessionIDs(t, db, "u1")); diff != "" {
		t.Errorf("sessions after a password change (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Change{{Users: []string{"u1"}, Secrets: [][32]byte{ss[0].Hash}}}, heard.take(), bySecret, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("password change announced (-want +got):\n%s", diff)
	}
	// A disable ends every session, the kept one too, and refuses new ones.
	if _, err := db.UpdateUserKeeping(ctx, "u1", "e", func(u *User) (Event, error) { u.Enabled = false; return event("user.disable", "u1"), nil }); err != nil {
		t.Fatal(err)
	}
	if ids := sessionIDs(t, db, "u1"); len(ids) != 0 {
		t.Errorf("sessions after disable = %v, want none", ids)
	}
	heard.take()
	checkErr(t, "CreateSession(disabled user)", db.CreateSession(ctx, newSession("f", "u1", t0), event("x", "f")), ErrDisabled)
	if _, err := db.UpdateUser(ctx, "u1", func(u *User) (Event, error) { u.Enabled = true; return event("user.enable", "u1"), nil }); err != nil {
		t.Fatal(err)
	}
	g := mustCreateSession(t, db, newSession("g", "u1", t0))
	heard.take()
	if err := db.DeleteUser(ctx, "u1", event("user.delete", "u1")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Change{{Users: []string{"u1"}, Secrets: [][32]byte{g.Hash}}}, heard.take(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("DeleteUser announced (-want +got):\n%s", diff)
	}
	_, err = db.SessionByHash(ctx, g.Hash)
	checkErr(t, "a session of a deleted user", err, ErrNotFound)
}

func testExpiredSessions(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	old := newSession("old", "u1", t0) // expires at t0+24h
	idle := newSession("idle", "u1", at(20*time.Hour))
	live := newSession("live", "u1", at(20*time.Hour))
	for _, s := range []Session{old, idle, live} {
		mustCreateSession(t, db, s)
	}
	if err := db.TouchSession(ctx, "live", at(23*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := db.DeleteExpiredSessions(ctx, at(24*time.Hour), at(22*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	ids := sessionIDs(t, db, "u1")
	if !slices.Equal(ids, []string{"live"}) {
		t.Errorf("sessions after the sweep = %v, want [live]", ids)
	}
}
