package store

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// harness opens stores for the suite. newDSN returns the DSN of a new,
// empty database, removed when t ends.
type harness struct {
	newDSN func(t testing.TB) string
}

// runSuite runs every behaviour test against one backend.
func runSuite(t *testing.T, newDSN func(t testing.TB) string) {
	h := harness{newDSN: newDSN}
	tests := []struct {
		name string
		fn   func(t *testing.T, h harness)
	}{
		{"APIs", testAPIs},
		{"UpdateAPI", testUpdateAPI},
		{"DeleteAPI", testDeleteAPI},
		{"CreateKey", testCreateKey},
		{"RequireSigned", testRequireSigned},
		{"ListKeys", testListKeys},
		{"UpdateKey", testUpdateKey},
		{"RotateKey", testRotateKey},
		{"DeleteExpiredSecrets", testDeleteExpiredSecrets},
		{"ConsumeCredits", testConsumeCredits},
		{"ConsumeCreditsConcurrent", testConsumeCreditsConcurrent},
		{"RecordUsage", testRecordUsage},
		{"Bootstrap", testBootstrap},
		{"Events", testEvents},
		{"EventRetention", testEventRetention},
		{"Reopen", testReopen},
		{"SigningKeys", testSigningKeys},
		{"RotateSigningKeyConcurrent", testRotateSigningKeyConcurrent},
		{"RevokedJTIs", testRevokedJTIs},
		{"OAuth", testOAuth},
		{"Changes", testChanges},
		{"Users", testUsers},
		{"ListUsers", testListUsers},
		{"UpdateUser", testUpdateUser},
		{"PasswordLinks", testPasswordLinks},
		{"PasskeyHandles", testPasskeyHandles},
		{"Passkeys", testPasskeys},
		{"RenameDeletePasskey", testRenameDeletePasskey},
		{"UsePasskey", testUsePasskey},
		{"PasskeyCeremonies", testPasskeyCeremonies},
		{"PersonalTokens", testPersonalTokens},
		{"AdminKeyLists", testAdminKeyLists},
		{"AdminGrantLists", testAdminGrantLists},
		{"Sessions", testSessions},
		{"EndSessions", testEndSessions},
		{"ExpiredSessions", testExpiredSessions},
		{"TOTP", testTOTP},
		{"RecoveryCodes", testRecoveryCodes},
		{"ResetMFA", testResetMFA},
		{"MFAAttempts", testMFAAttempts},
		{"MFAConcurrent", testMFAConcurrent},
		{"KeyUses", testKeyUses},
		{"Webhooks", testWebhooks},
		{"ClaimExpiringPATs", testClaimExpiringPATs},
		{"Approvals", testApprovals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, h)
		})
	}
}

// open opens a new, empty store.
func (h harness) open(t testing.TB) *DB {
	t.Helper()
	return openDSN(t, h.newDSN(t))
}

func openDSN(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// t0 is the suite's clock; times have microsecond precision, as stored.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func newAPI(id string) API {
	return API{
		ID:        id,
		Name:      "API " + id,
		Audience:  "https://" + id + ".example",
		Scopes:    []string{"read", "write"},
		KeyPrefix: id + "_",
		Policy: Policy{
			MaxKeyTTL:         90 * 24 * time.Hour,
			DefaultRateLimits: []RateLimit{{Name: "default", Limit: 100, Window: time.Minute}},
		},
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

func newKey(id, apiID, subject string) Key {
	return Key{
		ID: id, APIID: apiID, Subject: subject, Name: "key " + id, Prefix: apiID + "_",
		Start: "abcd", End: "wxyz", Scopes: []string{"read"}, Enabled: true,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func newSecret(seed string, created time.Time) Secret {
	return Secret{Hash: sha256.Sum256([]byte(seed)), Start: seed[:2], End: seed[len(seed)-2:], CreatedAt: created}
}

func event(action, target string) Event {
	return Event{Time: t0, Actor: "admin", Action: action, TargetType: "test", TargetID: target, ClientIP: "192.0.2.1"}
}

// mustCreateAPI creates an API with the given ID, logging "api.create".
func mustCreateAPI(t testing.TB, db *DB, id string) API {
	t.Helper()
	a := newAPI(id)
	if err := db.CreateAPI(t.Context(), a, event("api.create", id)); err != nil {
		t.Fatalf("CreateAPI(%s): %v", id, err)
	}
	return a
}

// mustCreateKey creates k with the secret seeded by its ID, logging
// "key.create".
func mustCreateKey(t testing.TB, db *DB, k Key) Secret {
	t.Helper()
	s := newSecret("secret-"+k.ID, k.CreatedAt)
	if err := db.CreateKey(t.Context(), k, s, event("key.create", k.ID)); err != nil {
		t.Fatalf("CreateKey(%s): %v", k.ID, err)
	}
	s.KeyID = k.ID
	return s
}

// checkLog fails unless the audit log holds exactly want, oldest first,
// each written as "action target".
func checkLog(t testing.TB, db *DB, want ...string) {
	t.Helper()
	evs, err := db.ListEvents(t.Context(), EventFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	got := []string{}
	for i := len(evs) - 1; i >= 0; i-- {
		got = append(got, evs[i].Action+" "+evs[i].TargetID)
	}
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func checkErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func mustKey(t testing.TB, db *DB, id string) Key {
	t.Helper()
	k, err := db.KeyByID(t.Context(), id)
	if err != nil {
		t.Fatalf("KeyByID(%s): %v", id, err)
	}
	return k
}

// runConcurrently calls fn(i) for i in [0, n) on n goroutines.
func runConcurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

func keyID(i int) string { return fmt.Sprintf("key%03d", i) }
