package user

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

var browser = ClientMeta{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (test)"}

func (e *env) signIn(t *testing.T, username string) SignedIn {
	t.Helper()
	si, err := e.svc.SignIn(t.Context(), username, goodPassword, browser)
	if err != nil {
		t.Fatalf("SignIn(%s): %v", username, err)
	}
	return si
}

func (e *env) mustCheck(t *testing.T, token string) Session {
	t.Helper()
	ss, _, err := e.svc.CheckSession(t.Context(), token)
	if err != nil {
		t.Fatalf("CheckSession: %v", err)
	}
	return ss
}

func (e *env) checkEnded(t *testing.T, what, token string) {
	t.Helper()
	if _, _, err := e.svc.CheckSession(t.Context(), token); !errors.Is(err, ErrNoSession) {
		t.Errorf("CheckSession after %s = %v, want ErrNoSession", what, err)
	}
}

func TestSignInStartsASession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword, Groups: []string{"ops"}})
	si := e.signIn(t, "ALICE")
	if p, ok := credential.Parse(si.Token); !ok || p != credential.SessionPrefix {
		t.Fatalf("token %.10q… is not a tkss token", si.Token)
	}
	if si.Session.UserID != alice.ID || si.Session.Pending != "" || !slices.Equal(si.Session.AMR, []string{"pwd"}) ||
		si.Session.IP != browser.IP || si.Session.UserAgent != browser.UserAgent || si.User.ID != alice.ID ||
		!si.Session.ExpiresAt.Equal(e.now.Add(DefaultSessionMax)) || !si.Session.AuthTime.Equal(e.now) {
		t.Errorf("SignIn = %+v", si)
	}
	ss, u, err := e.svc.CheckSession(ctx, si.Token)
	if err != nil || ss.ID != si.Session.ID || u.ID != alice.ID || !slices.Equal(u.Groups, []string{"ops"}) {
		t.Fatalf("CheckSession = %+v, %+v, %v", ss, u, err)
	}
	e.now = e.now.Add(time.Second)
	again := e.signIn(t, "alice")
	if again.Session.ID == si.Session.ID || again.Token == si.Token {
		t.Error("a second sign-in reused the session id or token")
	}
	for _, bad := range []string{"", "tkss_x", changeLast(si.Token), strings.Replace(si.Token, "tkss", "tksp", 1),
		credential.Generate(credential.SessionPrefix), credential.Generate(credential.AccessTokenPrefix)} {
		if _, _, err := e.svc.CheckSession(ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("CheckSession(%.12q) = %v, want ErrNoSession", bad, err)
		}
	}
	list, err := e.svc.Sessions(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].ID != again.Session.ID {
		t.Errorf("Sessions = %+v, %v; want both, newest first", list, err)
	}
	if err := e.svc.SignOut(ctx, si.Token); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "sign-out", si.Token)
	if err := e.svc.SignOut(ctx, si.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("second SignOut = %v, want ErrNoSession", err)
	}
	e.mustCheck(t, again.Token)
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	e.create(t, api.CreateUserRequest{Username: "nopass"})
	for _, tt := range []struct{ username, password string }{
		{"alice", "wrong-password-1"}, {"bob", goodPassword}, {"nopass", ""}, {"", ""}, {"x(uid=*)", "*"},
		{strings.Repeat("a", 10000), goodPassword}, {"alice", strings.Repeat("p", MaxPasswordLength+1)},
	} {
		_, err := e.svc.SignIn(ctx, tt.username, tt.password, ClientMeta{IP: "192.0.2.50"})
		if !errors.Is(err, ErrInvalidCredentials) || err.Error() != ErrInvalidCredentials.Error() {
			t.Errorf("SignIn(%q) = %v, want exactly ErrInvalidCredentials", tt.username, err)
		}
	}
	if _, err := e.svc.Disable(ctx, admin, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, browser); !errors.Is(err, ErrDisabled) {
		t.Errorf("SignIn(disabled) = %v, want ErrDisabled", err)
	}
	if _, err := e.svc.StartSession(ctx, alice.ID, []string{"hwk"}, browser); !errors.Is(err, ErrDisabled) {
		t.Errorf("StartSession(disabled) = %v, want ErrDisabled", err)
	}
	evs, _ := e.db.ListEvents(ctx, store.EventFilter{Action: "user.sign_in_failed", Limit: 100})
	if len(evs) != 7 {
		t.Errorf("%d sign_in_failed events, want 7", len(evs))
	}
	for _, ev := range evs {
		if ev.ClientIP != "192.0.2.50" {
			t.Errorf("failure event %+v lacks the client address", ev)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams,
		SessionIdle: time.Hour, SessionMax: 3 * time.Hour})
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	si := e.signIn(t, "alice")
	start := e.now
	lastSeen := func() time.Time {
		ss, err := e.db.SessionByHash(ctx, credential.Hash(si.Token))
		if err != nil {
			t.Fatal(err)
		}
		return ss.LastSeenAt
	}
	// Within a minute, use writes nothing; after it, one write.
	e.now = start.Add(30 * time.Second)
	e.mustCheck(t, si.Token)
	if !lastSeen().Equal(start) {
		t.Errorf("last seen moved after 30s: %v", lastSeen())
	}
	e.now = start.Add(50 * time.Minute)
	if ss := e.mustCheck(t, si.Token); !ss.LastSeenAt.Equal(e.now) {
		t.Errorf("CheckSession LastSeenAt = %v, want %v", ss.LastSeenAt, e.now)
	}
	if !lastSeen().Equal(e.now) {
		t.Errorf("stored last seen = %v, want %v", lastSeen(), e.now)
	}
	// Used every 50 minutes, it lives until its absolute end.
	e.now = start.Add(100 * time.Minute)
	e.mustCheck(t, si.Token)
	e.now = start.Add(150 * time.Minute)
	e.mustCheck(t, si.Token)
	e.now = start.Add(3 * time.Hour)
	e.checkEnded(t, "the absolute timeout", si.Token)

	idle := e.signIn(t, "alice")
	e.now = e.now.Add(time.Hour)
	e.checkEnded(t, "the idle timeout", idle.Token)
	if list, _ := e.svc.Sessions(ctx, alice.ID); len(list) != 0 {
		t.Errorf("Sessions lists ended sessions: %+v", list)
	}
	e.svc.sweepSessions(ctx)
	if ss, _ := e.db.SessionsOfUser(ctx, alice.ID); len(ss) != 0 {
		t.Errorf("sweep left %d ended sessions", len(ss))
	}
}

// TestIdleSeenElsewhere: a node whose cached last-seen time is old asks
// the store before calling a session idle, since another node may have
// seen it since.
func TestIdleSeenElsewhere(t *testing.T) {
	e := newEnv(t)
	clock := func() time.Time { return e.now }
	a := New(Config{DB: e.db, Now: clock, Params: testParams, SessionIdle: time.Hour})
	b := New(Config{DB: e.db, Now: clock, Params: testParams, SessionIdle: time.Hour})
	e.svc = a
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	si := e.signIn(t, "alice")
	e.mustCheck(t, si.Token) // cached on a
	e.now = e.now.Add(50 * time.Minute)
	if _, _, err := b.CheckSession(t.Context(), si.Token); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(50 * time.Minute) // 100 minutes after a last saw it
	e.mustCheck(t, si.Token)
}

func TestEndingSessions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	bob := e.create(t, api.CreateUserRequest{Username: "bob", Password: goodPassword})
	a1, a2, a3 := e.signIn(t, "alice"), e.signIn(t, "alice"), e.signIn(t, "alice")
	b1 := e.signIn(t, "bob")
	for _, si := range []SignedIn{a1, a2, a3, b1} {
		e.mustCheck(t, si.Token) // cached
	}
	if err := e.svc.EndSession(ctx, bob.ID, a1.Session.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EndSession(another user's) = %v, want ErrNotFound", err)
	}
	if err := e.svc.EndSession(ctx, alice.ID, a1.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "EndSession", a1.Token)
	if err := e.svc.EndSessions(ctx, alice.ID, a2.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "EndSessions", a3.Token)
	e.mustCheck(t, a2.Token)
	e.mustCheck(t, b1.Token)

	// A password change keeps only the session it came from.
	a4 := e.signIn(t, "alice")
	const next = "amber-meadow-falcon-77"
	if err := e.svc.ChangePassword(ctx, alice.ID, "wrong-password-9", next, a2.Session.ID); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("ChangePassword(wrong current) = %v, want ErrInvalidCredentials", err)
	}
	if err := e.svc.ChangePassword(ctx, alice.ID, goodPassword, "password1234", a2.Session.ID); !errors.As(err, new(*valid.Error)) {
		t.Errorf("ChangePassword(common) = %v, want a field error", err)
	}
	e.mustCheck(t, a4.Token)
	if err := e.svc.ChangePassword(ctx, alice.ID, goodPassword, next, a2.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "a password change", a4.Token)
	e.mustCheck(t, a2.Token)
	if _, err := e.svc.SignIn(ctx, "alice", next, browser); err != nil {
		t.Errorf("SignIn with the new password = %v", err)
	}
	// A disable ends every session; so does a deletion; a profile change
	// is seen at once.
	name := "Bob B."
	if _, err := e.svc.Update(ctx, admin, bob.ID, api.UpdateUserRequest{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	if _, u, err := e.svc.CheckSession(ctx, b1.Token); err != nil || u.DisplayName != name {
		t.Errorf("CheckSession after a profile change = %+v, %v", u, err)
	}
	if _, err := e.svc.Disable(ctx, admin, alice.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "a disable", a2.Token)
	if err := e.svc.AdminEndSessions(ctx, admin, bob.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "AdminEndSessions", b1.Token)
	b2 := e.signIn(t, "bob")
	e.mustCheck(t, b2.Token)
	if err := e.svc.Delete(ctx, admin, bob.ID); err != nil {
		t.Fatal(err)
	}
	e.checkEnded(t, "a deletion", b2.Token)
	if e.svc.sessions.len() != 0 {
		t.Errorf("the cache still holds %d sessions", e.svc.sessions.len())
	}
}

func TestSecondFactorPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	root := e.create(t, api.CreateUserRequest{Username: "root", Password: goodPassword, Admin: true})
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	tests := []struct {
		policy        MFAPolicy
		user, pending string
	}{
		{MFAAdmins, "root", PendingEnrol}, {MFAAdmins, "alice", ""},
		{MFAEveryone, "alice", PendingEnrol}, {MFAOff, "root", ""},
	}
	for _, tt := range tests {
		e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams, MFA: tt.policy})
		si := e.signIn(t, tt.user)
		if si.Session.Pending != tt.pending {
			t.Errorf("%s, %s: Pending = %q, want %q", tt.policy, tt.user, si.Session.Pending, tt.pending)
		}
		if tt.pending == PendingEnrol && !si.Session.ExpiresAt.Equal(e.now.Add(enrolTTL)) {
			t.Errorf("%s, %s: an enrolment session lasts until %v", tt.policy, tt.user, si.Session.ExpiresAt)
		}
	}
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams})
	enrol := e.signIn(t, "root")
	if _, err := e.svc.CompleteSecondFactor(ctx, enrol.Token, "otp", browser); !errors.Is(err, ErrNoSecondFactor) {
		t.Errorf("CompleteSecondFactor without a factor = %v, want ErrNoSecondFactor", err)
	}
	passkey, err := e.svc.StartSession(ctx, root.ID, []string{"hwk"}, browser)
	if err != nil || passkey.Session.Pending != "" {
		t.Fatalf("StartSession(passkey) = %+v, %v; want a full session", passkey.Session, err)
	}
	// Stepping up rotates the session: new id and token, the old one ended.
	e.now = e.now.Add(time.Minute)
	up, err := e.svc.CompleteSecondFactor(ctx, passkey.Token, "otp", browser)
	if err != nil {
		t.Fatal(err)
	}
	if up.Token == passkey.Token || up.Session.ID == passkey.Session.ID || !up.Session.AuthTime.Equal(e.now) ||
		!cmp.Equal(up.Session.AMR, []string{"hwk", "otp", "mfa"}) {
		t.Errorf("CompleteSecondFactor = %+v", up.Session)
	}
	e.checkEnded(t, "rotation", passkey.Token)
	e.mustCheck(t, up.Token)
	if _, err := e.svc.CompleteSecondFactor(ctx, passkey.Token, "otp", browser); !errors.Is(err, ErrNoSession) {
		t.Errorf("CompleteSecondFactor with the old token = %v, want ErrNoSession", err)
	}
}

// TestNoSessionTokenInDatabase: session tokens are stored only hashed,
// and never reach the audit log.
func TestNoSessionTokenInDatabase(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	a, b := e.signIn(t, "alice"), e.signIn(t, "alice")
	up, err := e.svc.CompleteSecondFactor(ctx, b.Token, "otp", browser)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SignOut(ctx, a.Token); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "tokend.db*"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{a.Token, b.Token, up.Token} {
			body := tok[len("tkss_"):]
			if bytes.Contains(raw, []byte(body)) {
				t.Errorf("%s holds a session token in clear (%.9s…)", filepath.Base(f), tok)
			}
		}
	}
}

// BenchmarkCheckSession is the hot path of every page: a cached, live
// session (compare BenchmarkVerifyCached in package verify, or run
// bench/signinload, which measures both in one process).
func BenchmarkCheckSession(b *testing.B) {
	db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "tokend.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := New(Config{DB: db, Params: testParams})
	if _, err := svc.Create(b.Context(), admin, api.CreateUserRequest{Username: "alice", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	si, err := svc.SignIn(b.Context(), "alice", goodPassword, browser)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := svc.CheckSession(b.Context(), si.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSecondFactorWithAPasskey: a user with a passkey is asked for a
// second factor after their password whatever the policy; an enrolment
// session completes once one exists.
func TestSecondFactorWithAPasskey(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	root := e.create(t, api.CreateUserRequest{Username: "root", Password: goodPassword, Admin: true})
	enrol := e.signIn(t, "root")
	if enrol.Session.Pending != PendingEnrol {
		t.Fatalf("Pending = %q, want enrol", enrol.Session.Pending)
	}
	pk := store.Passkey{ID: "pk_1", UserID: root.ID, CredentialID: []byte("cred-1"), PublicKey: []byte("cose"),
		AttestationType: "none", AttestationFormat: "none", AAGUID: make([]byte, 16), Name: "laptop", CreatedAt: e.now}
	if err := e.db.CreatePasskey(ctx, pk, store.Event{Time: e.now, Actor: root.ID, Action: "passkey.create", TargetType: "passkey", TargetID: pk.ID}); err != nil {
		t.Fatal(err)
	}
	full, err := e.svc.CompleteSecondFactor(ctx, enrol.Token, "hwk", browser)
	if err != nil || full.Session.Pending != "" {
		t.Fatalf("CompleteSecondFactor(enrol, after adding a passkey) = %+v, %v", full.Session, err)
	}
	for _, policy := range []MFAPolicy{MFAAdmins, MFAOff} {
		e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams, MFA: policy})
		si := e.signIn(t, "root")
		if si.Session.Pending != PendingSecondFactor || !si.Session.ExpiresAt.Equal(e.now.Add(pendingTTL)) {
			t.Errorf("%s: session = %+v, want pending second_factor for %v", policy, si.Session, pendingTTL)
		}
		up, err := e.svc.CompleteSecondFactor(ctx, si.Token, "hwk", browser)
		if err != nil || up.Session.Pending != "" || !cmp.Equal(up.Session.AMR, []string{"pwd", "hwk", "mfa"}) {
			t.Errorf("%s: CompleteSecondFactor = %+v, %v", policy, up.Session, err)
		}
	}
}

// TestCheckSessionRacesWithEnd: checks running while the session ends
// never accept it once the end has returned, whatever the cache was
// filling at that moment (run with -race too).
func TestCheckSessionRacesWithEnd(t *testing.T) {
	e := newEnv(t)
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for round := range 5 {
		si := e.signIn(t, "alice")
		var ended atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 200 {
					after := ended.Load()
					_, _, err := e.svc.CheckSession(t.Context(), si.Token)
					if after && err == nil {
						t.Errorf("round %d: a check that began after the sign-out accepted the session", round)
						return
					}
				}
			})
		}
		if err := e.svc.SignOut(t.Context(), si.Token); err != nil {
			t.Fatal(err)
		}
		ended.Store(true)
		wg.Wait()
	}
}
