package user

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/valid"
)

// testParams keep tests fast; the real parameters are measured by
// BenchmarkSignIn.
var testParams = Params{Time: 1, Memory: 64, Threads: 1}

const goodPassword = "violet-harbour-lantern-42"

var admin = audit.Actor{ID: "key_admin", IP: "192.0.2.1"}

type env struct {
	db  *store.DB
	dir string
	now time.Time
	svc *Service
}

// newEnv opens a fresh SQLite store in a temporary directory and a
// Service on it whose clock the test moves.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	db, err := store.Open(t.Context(), filepath.Join(e.dir, "tokend.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.svc = e.service(testParams)
	return e
}

func (e *env) service(p Params) *Service {
	return New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: p})
}

func (e *env) create(t *testing.T, req api.CreateUserRequest) api.CreatedUser {
	t.Helper()
	u, err := e.svc.Create(t.Context(), admin, req)
	if err != nil {
		t.Fatalf("Create(%s): %v", req.Username, err)
	}
	return u
}

func TestPasswordPolicy(t *testing.T) {
	c := loadCommon()
	tests := []struct {
		password string
		refused  bool
	}{
		{"short", true},
		{"elevenchars", true},
		{"password1234", true},
		{"Password123!", true},
		{"QWERTY123456", true},
		{"qwertyuiop123", true},
		{"iloveyou2024!!", true},
		{"abc123abc123", true},
		{"zzzzzzzzzzzzzzzz", true},
		{"correcthorsebatterystaple", true},
		{"xalice-is-here-1", true}, // contains the username
		{goodPassword, false},
		{"ünïcødé-pässwörd", false},
		{strings.Repeat("ab1", 400), true},
		{"kx9!" + strings.Repeat("q7Zp", 300), true}, // over 1024 bytes
	}
	for _, tt := range tests {
		err := c.checkPassword("alice", tt.password)
		if got := err != nil; got != tt.refused {
			t.Errorf("checkPassword(%.20q) = %v, want refused %v", tt.password, err, tt.refused)
		}
		if err != nil {
			ve, ok := errors.AsType[*valid.Error](err)
			if !ok || ve.Field != "password" || strings.Contains(err.Error(), tt.password) {
				t.Errorf("checkPassword(%.20q) = %v, want a password field error without the password", tt.password, err)
			}
		}
	}
}

func TestHashEncoding(t *testing.T) {
	h := newHasher(Params{Time: 2, Memory: 128, Threads: 2}, 1)
	enc, err := h.hash(t.Context(), goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=128,t=2,p=2$") {
		t.Errorf("hash = %q, want the PHC argon2id form with its parameters", enc)
	}
	p, _, _, err := decodeHash(enc)
	if err != nil || p != (Params{Time: 2, Memory: 128, Threads: 2}) {
		t.Errorf("decodeHash = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=128,t=2,p=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", enc + "$",
		strings.Replace(enc, "m=128", "m=99999999", 1), strings.Replace(enc, "t=2", "t=0", 1),
		strings.Replace(enc, "v=19", "v=16", 1)} {
		if _, _, _, err := decodeHash(bad); err == nil {
			t.Errorf("decodeHash(%q) accepted a malformed hash", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice := e.create(t, api.CreateUserRequest{Username: "Alice", Password: goodPassword, Groups: []string{"ops", "dev", "ops"}})
	if !alice.HasPassword || alice.PasswordLink != nil || !cmp.Equal(alice.Groups, []string{"dev", "ops"}) {
		t.Errorf("Create = %+v, want a password, no link, groups sorted without duplicates", alice)
	}
	got, err := e.svc.CheckPassword(ctx, "aLICE", goodPassword)
	if err != nil || got.ID != alice.ID {
		t.Fatalf("CheckPassword(right) = %+v, %v", got, err)
	}
	for _, tt := range []struct{ username, password string }{
		{"alice", goodPassword + "x"}, {"alice", ""}, {"bob", goodPassword}, {"", ""},
		{"alice", strings.Repeat("x", MaxPasswordLength+1)},
	} {
		if _, err := e.svc.CheckPassword(ctx, tt.username, tt.password); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("CheckPassword(%q, %.10q) = %v, want ErrInvalidCredentials", tt.username, tt.password, err)
		}
	}
	if _, err := e.svc.Disable(ctx, admin, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CheckPassword(ctx, "alice", goodPassword); !errors.Is(err, ErrDisabled) {
		t.Errorf("CheckPassword(disabled, right) = %v, want ErrDisabled", err)
	}
	if _, err := e.svc.CheckPassword(ctx, "alice", "wrong-password-here"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("CheckPassword(disabled, wrong) = %v, want ErrInvalidCredentials", err)
	}
}

func TestRehashOnSignInWithStrongerParams(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	stronger := Params{Time: 2, Memory: 128, Threads: 1}
	e.svc = e.service(stronger)
	if _, err := e.svc.CheckPassword(ctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	stored, err := e.db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _, err := decodeHash(stored.PasswordHash); err != nil || p != stronger {
		t.Errorf("stored hash parameters = %+v, %v; want %+v", p, err, stronger)
	}
	if _, err := e.svc.CheckPassword(ctx, "alice", goodPassword); err != nil {
		t.Errorf("CheckPassword after rehash = %v", err)
	}
	// Going back to weaker parameters does not weaken the stored hash.
	e.svc = e.service(testParams)
	if _, err := e.svc.CheckPassword(ctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	again, _ := e.db.UserByID(ctx, u.ID)
	if again.PasswordHash != stored.PasswordHash {
		t.Error("a sign-in under weaker parameters rehashed the password")
	}
}

func TestSetPasswordLink(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.create(t, api.CreateUserRequest{Username: "bob"})
	if u.HasPassword || u.PasswordLink == nil || !strings.HasPrefix(u.PasswordLink.Token, "tksp_") ||
		!u.PasswordLink.ExpiresAt.Equal(e.now.Add(DefaultLinkTTL)) {
		t.Fatalf("Create without a password = %+v, want a tksp_ link expiring in %v", u, DefaultLinkTTL)
	}
	token := u.PasswordLink.Token
	if _, err := e.svc.CheckPassword(ctx, "bob", ""); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("CheckPassword without a password set = %v", err)
	}
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, token, "password1234"); !errors.As(err, new(*valid.Error)) {
		t.Errorf("SetPasswordWithLink(common) = %v, want a field error", err)
	}
	for _, bad := range []string{"", "tksp_nope", strings.Replace(token, "tksp", "tkss", 1), changeLast(token)} {
		if _, err := e.svc.SetPasswordWithLink(ctx, admin, bad, goodPassword); !errors.Is(err, ErrInvalidLink) {
			t.Errorf("SetPasswordWithLink(%.12q) = %v, want ErrInvalidLink", bad, err)
		}
	}
	got, err := e.svc.SetPasswordWithLink(ctx, admin, token, goodPassword)
	if err != nil || !got.HasPassword {
		t.Fatalf("SetPasswordWithLink = %+v, %v", got, err)
	}
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, token, goodPassword+"2"); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("second use of a link = %v, want ErrInvalidLink", err)
	}
	if _, err := e.svc.CheckPassword(ctx, "bob", goodPassword); err != nil {
		t.Errorf("CheckPassword after set = %v", err)
	}
	link, err := e.svc.IssuePasswordLink(ctx, admin, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(DefaultLinkTTL)
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, link.Token, goodPassword+"3"); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("expired link = %v, want ErrInvalidLink", err)
	}
	link, _ = e.svc.IssuePasswordLink(ctx, admin, u.ID)
	if _, err := e.svc.Disable(ctx, admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, link.Token, goodPassword+"4"); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("link of a disabled user = %v, want ErrInvalidLink", err)
	}
}

func TestManageUsers(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := e.create(t, api.CreateUserRequest{Username: "alice", Email: "a@example.com", Groups: []string{"ops"}})
	b := e.create(t, api.CreateUserRequest{Username: "albert", Groups: []string{"dev"}})
	// The list is in id order; two ids made at the same instant order at
	// random, so the pages are checked against the ids, not the names.
	first, second := a, b
	if b.ID < a.ID {
		first, second = b, a
	}
	if _, err := e.svc.Create(ctx, admin, api.CreateUserRequest{Username: "ALICE"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Create(ALICE) = %v, want ErrConflict", err)
	}
	for _, req := range []api.CreateUserRequest{
		{Username: ""}, {Username: "a b"}, {Username: "-x"}, {Username: "x(uid=*)"}, {Username: strings.Repeat("a", 65)},
		{Username: "carol", Email: "nope"}, {Username: "carol", Groups: []string{""}},
		{Username: "carol", Password: "short"},
	} {
		if _, err := e.svc.Create(ctx, admin, req); !errors.As(err, new(*valid.Error)) {
			t.Errorf("Create(%+v) = %v, want a field error", req, err)
		}
	}
	name, groups, yes := "Alice A.", []string{"b", "a"}, true
	got, err := e.svc.Update(ctx, admin, a.ID, api.UpdateUserRequest{DisplayName: &name, Groups: &groups, Admin: &yes})
	if err != nil || got.DisplayName != name || !cmp.Equal(got.Groups, []string{"a", "b"}) || !got.Admin {
		t.Errorf("Update = %+v, %v", got, err)
	}
	page, err := e.svc.List(ctx, ListFilter{UsernamePrefix: "al", Limit: 1})
	if err != nil || len(page.Users) != 1 || page.NextCursor != first.ID {
		t.Fatalf("List page 1 = %+v, %v", page, err)
	}
	page, err = e.svc.List(ctx, ListFilter{UsernamePrefix: "al", After: page.NextCursor, Limit: 1})
	if err != nil || len(page.Users) != 1 || page.Users[0].Username != second.Username {
		t.Fatalf("List page 2 = %+v, %v", page, err)
	}
	if err := e.svc.Delete(ctx, admin, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	evs, err := e.db.ListEvents(ctx, store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(evs) - 1; i >= 0; i-- {
		actions = append(actions, evs[i].Action)
	}
	want := []string{"user.create", "user.password_link", "user.create", "user.password_link", "user.update", "user.delete"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

// TestNoSecretInDatabase: neither a password nor a set-password token is
// written to the database files (including the WAL) in clear.
func TestNoSecretInDatabase(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	bob := e.create(t, api.CreateUserRequest{Username: "bob"})
	const second = "amber-meadow-falcon-77"
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, bob.PasswordLink.Token, second); err != nil {
		t.Fatal(err)
	}
	link, err := e.svc.IssuePasswordLink(ctx, admin, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "tokend.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{goodPassword, second, bob.PasswordLink.Token, link.Token} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a secret in clear (%.8s…)", filepath.Base(f), secret)
			}
		}
	}
}

// TestHashingWaitsForASlot: with every slot taken, hashing waits, and
// gives up when its context ends.
func TestHashingWaitsForASlot(t *testing.T) {
	h := newHasher(testParams, 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.hash(ctx, goodPassword); !errors.Is(err, context.Canceled) {
		t.Errorf("hash with no free slot = %v, want context.Canceled", err)
	}
	if _, _, err := h.check(ctx, "", goodPassword); !errors.Is(err, context.Canceled) {
		t.Errorf("check with no free slot = %v, want context.Canceled", err)
	}
	<-h.slots
	if _, err := h.hash(t.Context(), goodPassword); err != nil {
		t.Errorf("hash with a free slot = %v", err)
	}
}

// BenchmarkSignIn measures CheckPassword with DefaultParams: sign-ins per
// second on this machine, with as many running as the hashing limit
// allows.
func BenchmarkSignIn(b *testing.B) {
	db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "tokend.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := New(Config{DB: db})
	if _, err := svc.Create(b.Context(), admin, api.CreateUserRequest{Username: "alice", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.CheckPassword(b.Context(), "alice", goodPassword); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signins/s")
}

// TestUnknownLinkCostsNoHash: a well-formed set-password token that is
// not a live link is refused before any argon2id work. With every
// hashing slot taken, a hash attempt would wait until the context's
// deadline and fail with it; the refusal must be ErrInvalidLink.
func TestUnknownLinkCostsNoHash(t *testing.T) {
	e := newEnv(t)
	for range cap(e.svc.hasher.slots) {
		e.svc.hasher.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	token := credential.Generate(credential.SetPasswordPrefix)
	if _, err := e.svc.SetPasswordWithLink(ctx, admin, token, goodPassword); !errors.Is(err, ErrInvalidLink) {
		t.Errorf("SetPasswordWithLink(unknown, well-formed) = %v, want ErrInvalidLink", err)
	}
}

// changeLast returns s with its last character replaced by a different
// one, so the result never equals s.
func changeLast(s string) string {
	c := byte('0')
	if s[len(s)-1] == c {
		c = '1'
	}
	return s[:len(s)-1] + string(c)
}
