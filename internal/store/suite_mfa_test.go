package store

import (
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"
)

func recoveryCodes(seeds ...string) []RecoveryCode {
	out := make([]RecoveryCode, len(seeds))
	for i, s := range seeds {
		out[i] = RecoveryCode{Hash: sha256.Sum256([]byte(s)), CreatedAt: t0}
	}
	return out
}

// mustConfirmTOTP gives the user a confirmed TOTP, last used at step 100,
// and the recovery codes seeded by codes.
func mustConfirmTOTP(t testing.TB, db *DB, userID string, codes ...string) {
	t.Helper()
	ctx := t.Context()
	if err := db.PutPendingTOTP(ctx, TOTP{UserID: userID, Sealed: []byte("sealed-" + userID), CreatedAt: t0}); err != nil {
		t.Fatalf("PutPendingTOTP(%s): %v", userID, err)
	}
	if err := db.ConfirmTOTP(ctx, userID, t0, 100, at(time.Minute), recoveryCodes(codes...), event("user.totp_enable", userID)); err != nil {
		t.Fatalf("ConfirmTOTP(%s): %v", userID, err)
	}
}

func checkMFA(t testing.TB, db *DB, userID string, want MFA) {
	t.Helper()
	got, err := db.MFAOf(t.Context(), userID)
	if err != nil || got != want {
		t.Errorf("MFAOf(%s) = %+v, %v; want %+v", userID, got, err, want)
	}
}

func testTOTP(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	checkErr(t, "PutPendingTOTP(no user)", db.PutPendingTOTP(ctx, TOTP{UserID: "nope", Sealed: []byte("x"), CreatedAt: t0}), ErrNotFound)
	_, err := db.TOTPOf(ctx, "u1")
	checkErr(t, "TOTPOf(none)", err, ErrNotFound)
	if err := db.PutPendingTOTP(ctx, TOTP{UserID: "u1", Sealed: []byte("first"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// A second enrolment replaces the pending one.
	if err := db.PutPendingTOTP(ctx, TOTP{UserID: "u1", Sealed: []byte("second"), CreatedAt: at(time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := db.TOTPOf(ctx, "u1")
	if err != nil || string(got.Sealed) != "second" || !got.ConfirmedAt.IsZero() || !got.CreatedAt.Equal(at(time.Second)) {
		t.Fatalf("TOTPOf(pending) = %+v, %v", got, err)
	}
	checkMFA(t, db, "u1", MFA{})
	checkErr(t, "UseTOTPStep(pending)", db.UseTOTPStep(ctx, "u1", 5), ErrConflict)
	// Confirming the replaced enrolment finds nothing.
	checkErr(t, "ConfirmTOTP(replaced)", db.ConfirmTOTP(ctx, "u1", t0, 7, at(time.Minute), nil, event("x", "u1")), ErrNotFound)
	if err := db.ConfirmTOTP(ctx, "u1", at(time.Second), 7, at(time.Minute), recoveryCodes("a", "b"), event("user.totp_enable", "u1")); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "ConfirmTOTP(again)", db.ConfirmTOTP(ctx, "u1", at(time.Second), 8, at(time.Minute), nil, event("x", "u1")), ErrNotFound)
	checkErr(t, "PutPendingTOTP(confirmed)", db.PutPendingTOTP(ctx, TOTP{UserID: "u1", Sealed: []byte("third"), CreatedAt: at(time.Hour)}), ErrConflict)
	got, _ = db.TOTPOf(ctx, "u1")
	if string(got.Sealed) != "second" || !got.ConfirmedAt.Equal(at(time.Minute)) || got.LastStep != 7 {
		t.Errorf("TOTPOf(confirmed) = %+v", got)
	}
	checkMFA(t, db, "u1", MFA{TOTP: true, RecoveryCodes: 2})
	for _, step := range []int64{7, 6} {
		checkErr(t, "UseTOTPStep(not later)", db.UseTOTPStep(ctx, "u1", step), ErrConflict)
	}
	if err := db.UseTOTPStep(ctx, "u1", 9); err != nil {
		t.Errorf("UseTOTPStep(9): %v", err)
	}
	checkErr(t, "UseTOTPStep(9 again)", db.UseTOTPStep(ctx, "u1", 9), ErrConflict)
	checkErr(t, "UseTOTPStep(no user)", db.UseTOTPStep(ctx, "nope", 10), ErrConflict)
	if err := db.DeleteTOTP(ctx, "u1", event("user.totp_disable", "u1")); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "DeleteTOTP(none)", db.DeleteTOTP(ctx, "u1", event("x", "u1")), ErrNotFound)
	checkMFA(t, db, "u1", MFA{})
	checkLog(t, db, "user.create u1", "user.totp_enable u1", "user.totp_disable u1")
}

func testRecoveryCodes(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	checkErr(t, "ReplaceRecoveryCodes(no totp)", db.ReplaceRecoveryCodes(ctx, "u1", recoveryCodes("a"), event("x", "u1")), ErrNotFound)
	mustConfirmTOTP(t, db, "u1", "a", "b", "c")
	mustConfirmTOTP(t, db, "u2", "z")
	a := sha256.Sum256([]byte("a"))
	checkErr(t, "UseRecoveryCode(other user's)", db.UseRecoveryCode(ctx, "u2", a, event("x", "u2")), ErrNotFound)
	if err := db.UseRecoveryCode(ctx, "u1", a, event("user.recovery_code_use", "u1")); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "UseRecoveryCode(used)", db.UseRecoveryCode(ctx, "u1", a, event("x", "u1")), ErrNotFound)
	checkMFA(t, db, "u1", MFA{TOTP: true, RecoveryCodes: 2})
	checkErr(t, "ReplaceRecoveryCodes(taken)", db.ReplaceRecoveryCodes(ctx, "u1", recoveryCodes("d", "z"), event("x", "u1")), ErrConflict)
	checkMFA(t, db, "u1", MFA{TOTP: true, RecoveryCodes: 2})
	if err := db.ReplaceRecoveryCodes(ctx, "u1", recoveryCodes("d", "e", "f", "g"), event("user.recovery_codes_renew", "u1")); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "UseRecoveryCode(replaced)", db.UseRecoveryCode(ctx, "u1", sha256.Sum256([]byte("b")), event("x", "u1")), ErrNotFound)
	checkMFA(t, db, "u1", MFA{TOTP: true, RecoveryCodes: 4})
	checkMFA(t, db, "u2", MFA{TOTP: true, RecoveryCodes: 1})
	checkLog(t, db, "user.create u1", "user.create u2", "user.totp_enable u1", "user.totp_enable u2",
		"user.recovery_code_use u1", "user.recovery_codes_renew u1")
}

func testResetMFA(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	mustConfirmTOTP(t, db, "u1", "a", "b")
	mustConfirmTOTP(t, db, "u2", "c")
	mustCreatePasskey(t, db, newPasskey("pk1", "u1", "cred1"))
	mustCreatePasskey(t, db, newPasskey("pk2", "u1", "cred2"))
	mustCreatePasskey(t, db, newPasskey("pk3", "u2", "cred3"))
	s1 := mustCreateSession(t, db, newSession("s1", "u1", t0))
	mustCreateSession(t, db, newSession("s2", "u2", t0))
	checkMFA(t, db, "u1", MFA{TOTP: true, RecoveryCodes: 2, Passkeys: 2})
	var heard []Change
	var mu sync.Mutex
	defer db.Subscribe(func(c Change) { mu.Lock(); heard = append(heard, c); mu.Unlock() })()
	if _, err := db.TakeMFAAttempt(ctx, "u1", t0, time.Hour, func(int) time.Duration { return time.Hour }); err != nil {
		t.Fatal(err)
	}
	var seen MFA
	before, err := db.ResetMFA(ctx, "u1", func(b MFA) (Event, error) { seen = b; return event("user.mfa_reset", "u1"), nil })
	if err != nil || before != (MFA{TOTP: true, RecoveryCodes: 2, Passkeys: 2}) || seen != before {
		t.Errorf("ResetMFA = %+v, %v (callback saw %+v)", before, err, seen)
	}
	checkMFA(t, db, "u1", MFA{})
	checkMFA(t, db, "u2", MFA{TOTP: true, RecoveryCodes: 1, Passkeys: 1})
	if got, want := sessionIDs(t, db, "u1"), sessionIDs(t, db, "u2"); len(got) != 0 || len(want) != 1 {
		t.Errorf("after the reset, u1 has sessions %v (want none), u2 %v (want s2)", got, want)
	}
	mu.Lock()
	if len(heard) != 1 || len(heard[0].Secrets) != 1 || heard[0].Secrets[0] != s1.Hash {
		t.Errorf("ResetMFA announced %+v, want the hash of s1's token", heard)
	}
	mu.Unlock()
	if _, err := db.PasskeyByCredentialID(ctx, []byte("cred1")); !errors.Is(err, ErrNotFound) {
		t.Errorf("PasskeyByCredentialID(reset user's) = %v, want ErrNotFound", err)
	}
	a, err := db.TakeMFAAttempt(ctx, "u1", t0, time.Hour, func(int) time.Duration { return 0 })
	if err != nil || !a.Allowed || a.Failures != 1 {
		t.Errorf("TakeMFAAttempt after reset = %+v, %v; want the lock and count gone", a, err)
	}
	// A pending enrolment goes too; the user may enrol again.
	if err := db.PutPendingTOTP(ctx, TOTP{UserID: "u1", Sealed: []byte("x"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResetMFA(ctx, "u1", func(MFA) (Event, error) { return event("user.mfa_reset", "u1"), nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TOTPOf(ctx, "u1"); err == nil {
		t.Error("ResetMFA left a pending TOTP")
	}
	_, err = db.ResetMFA(ctx, "nope", func(MFA) (Event, error) { return event("x", "nope"), nil })
	checkErr(t, "ResetMFA(no user)", err, ErrNotFound)
	// Deleting a user deletes their factors with them.
	if err := db.DeleteUser(ctx, "u2", event("user.delete", "u2")); err != nil {
		t.Fatal(err)
	}
	checkMFA(t, db, "u2", MFA{})
	checkLog(t, db, "user.create u1", "user.create u2", "user.totp_enable u1", "user.totp_enable u2",
		"passkey.create pk1", "passkey.create pk2", "passkey.create pk3", "session.create s1", "session.create s2",
		"user.mfa_reset u1", "user.mfa_reset u1", "user.delete u2")
}

func testMFAAttempts(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateUser(t, db, newUser("u1", "alice"))
	lock := func(n int) time.Duration {
		if n < 3 {
			return 0
		}
		return time.Minute
	}
	for i := 1; i <= 3; i++ {
		a, err := db.TakeMFAAttempt(ctx, "u1", at(time.Duration(i)*time.Second), time.Hour, lock)
		if err != nil || !a.Allowed || a.Failures != i {
			t.Fatalf("attempt %d = %+v, %v", i, a, err)
		}
	}
	a, err := db.TakeMFAAttempt(ctx, "u1", at(10*time.Second), time.Hour, lock)
	if err != nil || a.Allowed || !a.LockedUntil.Equal(at(3*time.Second+time.Minute)) {
		t.Errorf("attempt while locked = %+v, %v; want refused until %v", a, err, at(3*time.Second+time.Minute))
	}
	a, err = db.TakeMFAAttempt(ctx, "u1", at(2*time.Minute), time.Hour, lock)
	if err != nil || !a.Allowed || a.Failures != 4 {
		t.Errorf("attempt after the lock = %+v, %v; want allowed, the 4th", a, err)
	}
	// After forget without attempts, the count starts again.
	a, err = db.TakeMFAAttempt(ctx, "u1", at(5*time.Hour), time.Hour, lock)
	if err != nil || !a.Allowed || a.Failures != 1 {
		t.Errorf("attempt after forget = %+v, %v; want the 1st", a, err)
	}
	if err := db.ClearMFAAttempts(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	a, _ = db.TakeMFAAttempt(ctx, "u1", at(5*time.Hour), time.Hour, lock)
	if a.Failures != 1 {
		t.Errorf("attempt after clear = %+v; want the 1st", a)
	}
	_, err = db.TakeMFAAttempt(ctx, "nope", t0, time.Hour, lock)
	checkErr(t, "TakeMFAAttempt(no user)", err, ErrNotFound)
}

// testMFAConcurrent: of many uses of one code at once, on two pools of
// one database, exactly one wins; attempts made at once are all counted.
func testMFAConcurrent(t *testing.T, h harness) {
	dsn := h.newDSN(t)
	dbs := []*DB{openDSN(t, dsn), openDSN(t, dsn)}
	ctx := t.Context()
	mustCreateUser(t, dbs[0], newUser("u1", "alice"))
	mustConfirmTOTP(t, dbs[0], "u1", "a")
	const n = 8
	errs := make([]error, n)
	runConcurrently(n, func(i int) { errs[i] = dbs[i%2].UseTOTPStep(ctx, "u1", 101) })
	checkOneWins(t, "UseTOTPStep", errs, ErrConflict)
	hash := sha256.Sum256([]byte("a"))
	runConcurrently(n, func(i int) {
		errs[i] = dbs[i%2].UseRecoveryCode(ctx, "u1", hash, event("user.recovery_code_use", "u1"))
	})
	checkOneWins(t, "UseRecoveryCode", errs, ErrNotFound)
	never := func(int) time.Duration { return 0 }
	runConcurrently(n, func(i int) { _, errs[i] = dbs[i%2].TakeMFAAttempt(ctx, "u1", t0, time.Hour, never) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("TakeMFAAttempt %d: %v", i, err)
		}
	}
	if a, err := dbs[0].TakeMFAAttempt(ctx, "u1", t0, time.Hour, never); err != nil || a.Failures != n+1 {
		t.Errorf("after %d concurrent attempts, the next = %+v, %v; want the %dth", n, a, err, n+1)
	}
}

func checkOneWins(t testing.TB, what string, errs []error, lose error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			checkErr(t, what+" loser", err, lose)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d concurrent uses won, want 1", what, wins, len(errs))
	}
}
