package multinode

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/cluster"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
)

// sessionNode is one node's people service: its own store connections,
// its own session cache, and its own listener on PostgreSQL's change
// channel, as cmd/tokend wires them.
type sessionNode struct {
	db    *store.DB
	users *user.Service
}

func startSessionNode(t *testing.T, dsn string) *sessionNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := cluster.Listen(ctx, cluster.Config{DSN: dsn, Deliver: db.Deliver})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	// The cheapest argon2id parameters: these tests are about sessions.
	return &sessionNode{db: db, users: user.New(user.Config{DB: db, Params: user.Params{Time: 1, Memory: 64, Threads: 1}})}
}

// TestSessionEndsReachTheOtherNodeWithinOneSecond: every way a session
// ends, made on node A, makes node B refuse the session within one
// second, although B holds it in a cache that nothing but the change
// channel empties.
func TestSessionEndsReachTheOtherNodeWithinOneSecond(t *testing.T) {
	pg := os.Getenv("TOKEND_TEST_POSTGRES")
	if pg == "" {
		t.Skip("needs TOKEND_TEST_POSTGRES")
	}
	dsn := freshDSN(t, pg)
	a, b := startSessionNode(t, dsn), startSessionNode(t, dsn)
	ctx := t.Context()
	const password = "violet-harbour-lantern-42"
	admin := audit.Actor{ID: "multinode"}
	m := user.ClientMeta{IP: "192.0.2.10", UserAgent: "multinode"}
	newUser := func(t *testing.T) api.User {
		u, err := a.users.Create(ctx, admin, api.CreateUserRequest{Username: "user" + Suffix(), Password: password})
		if err != nil {
			t.Fatal(err)
		}
		return u.User
	}
	// signIn signs u in on A and makes B cache the session.
	signIn := func(t *testing.T, u api.User) user.SignedIn {
		si, err := a.users.SignIn(ctx, u.Username, password, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.users.CheckSession(ctx, si.Token); err != nil {
			t.Fatalf("B does not know a session made on A: %v", err)
		}
		return si
	}
	kinds := []struct {
		name string
		end  func(t *testing.T, u api.User, si user.SignedIn) error
	}{
		{"sign-out", func(t *testing.T, u api.User, si user.SignedIn) error { return a.users.SignOut(ctx, si.Token) }},
		{"end one session", func(t *testing.T, u api.User, si user.SignedIn) error {
			return a.users.EndSession(ctx, u.ID, si.Session.ID)
		}},
		{"end all sessions", func(t *testing.T, u api.User, si user.SignedIn) error { return a.users.EndSessions(ctx, u.ID, "") }},
		{"admin ends sessions", func(t *testing.T, u api.User, si user.SignedIn) error {
			return a.users.AdminEndSessions(ctx, admin, u.ID)
		}},
		{"password change", func(t *testing.T, u api.User, si user.SignedIn) error {
			keep := signIn(t, u)
			return a.users.ChangePassword(ctx, u.ID, password, "amber-meadow-falcon-77", keep.Session.ID)
		}},
		{"disable", func(t *testing.T, u api.User, si user.SignedIn) error {
			_, err := a.users.Disable(ctx, admin, u.ID)
			return err
		}},
		{"delete", func(t *testing.T, u api.User, si user.SignedIn) error { return a.users.Delete(ctx, admin, u.ID) }},
		{"second factor rotation", func(t *testing.T, u api.User, si user.SignedIn) error {
			_, err := a.users.CompleteSecondFactor(ctx, si.Token, "otp", m)
			return err
		}},
	}
	const reps = 5
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			var times []time.Duration
			for rep := range reps {
				u := newUser(t)
				si := signIn(t, u)
				start := time.Now()
				if err := kind.end(t, u, si); err != nil {
					t.Fatalf("repetition %d: the change on A: %v", rep, err)
				}
				for {
					_, _, err := b.users.CheckSession(ctx, si.Token)
					if errors.Is(err, user.ErrNoSession) {
						break
					}
					if err != nil {
						t.Fatalf("repetition %d: CheckSession on B: %v", rep, err)
					}
					if time.Since(start) > time.Second {
						t.Fatalf("repetition %d: 1s after the change on A, B still accepts the session", rep)
					}
				}
				times = append(times, time.Since(start))
			}
			t.Logf("%s on A until B refuses the session, %d repetitions: max %v", kind.name, reps, slices.Max(times))
		})
	}
	// A profile change on A is what B shows next.
	u := newUser(t)
	si := signIn(t, u)
	name := "Renamed " + Suffix()
	if _, err := a.users.Update(ctx, admin, u.ID, api.UpdateUserRequest{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		_, got, err := b.users.CheckSession(ctx, si.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName == name {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("1s after a rename on A, B still shows %q", got.DisplayName)
		}
	}
}
