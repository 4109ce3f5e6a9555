package multinode

import (
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// step is one repetition of a kind of change: change makes it on node
// A; reflected asks node B and reports whether B's answer follows the
// change, and what B answered.
type step struct {
	change    func() error
	reflected func(t *testing.T) (bool, string)
}

// changeKinds sets up the credentials of each kind of change. Each
// prepare function creates what it changes on A and makes B cache it
// (B answers by the state before the change), then returns the step.
type changeKinds struct {
	p     *pair
	apiID string
	reps  int // repetitions so far, for distinct source addresses
	// patPolicy: the API's policy lets group eng hold personal access
	// tokens.
	patPolicy bool
	// approvalAPI is the API whose policy holds personal access tokens
	// for approval, once made.
	approvalAPI string
	// clientGateAPI is the API whose policy holds dynamically
	// registered clients for approval, once made.
	clientGateAPI string
}

// TestChangesReachTheOtherNodeWithinOneSecond checks DESIGN §3's promise
// for every kind of change that alters a verification answer: made on
// node A, it governs node B's answer within one second, although every
// cache TTL is far longer (so only the invalidation channel can bring it).
func TestChangesReachTheOtherNodeWithinOneSecond(t *testing.T) {
	pg, _, tokend := services(t)
	p := startPair(t, tokend, freshDSN(t, pg), "--issuer", "http://tokend.multinode.test",
		"--cache-ttl", "10m", "--negative-cache-ttl", "10m", "--dcr", "--dcr-rate-limit", "0")
	k := &changeKinds{p: p, apiID: newAPI(t, p.a.Client(p.admin))}
	const reps = 20
	for _, kind := range []struct {
		name    string
		prepare func(t *testing.T) step
	}{
		{"API key revocation", k.apiKeyRevocation},
		{"opaque access token revocation", k.accessTokenRevocation("opaque")},
		{"JWT access token revocation", k.accessTokenRevocation("jwt")},
		{"refresh family revocation", k.familyRevocation},
		{"client deletion", k.clientDeletion},
		{"client secret rotation", k.secretRotation},
		{"signing key rotation", k.signingKeyRotation},
		{"personal access token revocation", k.patChange(api.CodeRevoked, revokePAT)},
		{"personal access token revoked by its owner", k.patChange(api.CodeRevoked, k.revokeOwnPAT)},
		{"PAT owner loses the granting group", k.patChange(api.CodeDisabled, dropGroups)},
		{"PAT owner disabled", k.patChange(api.CodeDisabled, disableOwner)},
		{"PAT owner deleted", k.patChange(api.CodeNotFound, deleteOwner)},
		{"pending personal access token approved", k.decision(api.CodeValid, approvePAT)},
		{"pending personal access token denied", k.decision(api.CodeRevoked, denyPAT)},
		{"pending registered client approved", k.pendingClient},
	} {
		t.Run(kind.name, func(t *testing.T) {
			times := make([]time.Duration, 0, reps)
			stale := 0
			for rep := range reps {
				s := kind.prepare(t)
				took, n := await(t, rep, s)
				times, stale = append(times, took), stale+n
			}
			t.Logf("%s on A until B answers by it, %d repetitions (from sending the change): p50 %v, p99 %v, max %v; %d stale answers from B in all",
				kind.name, reps, percentile(times, 0.50), percentile(times, 0.99), slices.Max(times), stale)
		})
	}
}

// await makes s's change and asks B until its answer follows it. It
// fails the test if that takes more than a second, and returns how long
// it took and how many answers of B were stale meanwhile.
func await(t *testing.T, rep int, s step) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	if err := s.change(); err != nil {
		t.Fatalf("repetition %d: the change on A: %v", rep, err)
	}
	for n := 0; ; n++ {
		ok, got := s.reflected(t)
		if ok {
			return time.Since(start), n
		}
		if time.Since(start) > time.Second {
			t.Fatalf("repetition %d: 1s after the change on A, B still answers %s", rep, got)
		}
	}
}

// verifyCode asks n about token.
func (k *changeKinds) verifyCode(t *testing.T, n *Node, token string) api.Code {
	t.Helper()
	code, err := n.Verify(t.Context(), k.p.admin, token)
	if err != nil {
		t.Fatalf("verify on %s: %v", n.URL, err)
	}
	return code
}

// answers returns a reflected function: B's verification of token gives
// want.
func (k *changeKinds) answers(token string, want api.Code) func(t *testing.T) (bool, string) {
	return func(t *testing.T) (bool, string) {
		got := k.verifyCode(t, k.p.b, token)
		return got == want, string(got)
	}
}

func (k *changeKinds) client(t *testing.T, format string, grants ...string) oauthClient {
	k.reps++
	return k.p.newOAuthClient(t, k.apiID, format, k.reps, grants...)
}

func (k *changeKinds) apiKeyRevocation(t *testing.T) step {
	id, token := newKey(t, k.p.a.Client(k.p.admin), api.CreateKeyRequest{APIID: k.apiID})
	mustCode(t, k.p.b, k.p.admin, token, api.CodeValid)
	return step{
		change: func() error {
			_, err := k.p.a.Client(k.p.admin).RevokeKey(t.Context(), id)
			return err
		},
		reflected: k.answers(token, api.CodeRevoked),
	}
}

func (k *changeKinds) accessTokenRevocation(format string) func(t *testing.T) step {
	return func(t *testing.T) step {
		c := k.client(t, format, "client_credentials")
		tok := c.mustToken(t, k.p.a).AccessToken
		mustCode(t, k.p.b, k.p.admin, tok, api.CodeValid)
		return step{
			change:    func() error { return c.revoke(t.Context(), k.p.a, tok) },
			reflected: k.answers(tok, api.CodeRevoked),
		}
	}
}

// familyRevocation revokes a refresh token on A, which revokes its
// family with the access token issued beside it.
func (k *changeKinds) familyRevocation(t *testing.T) step {
	c := k.client(t, "opaque", "client_credentials", "refresh_token")
	tr := c.mustToken(t, k.p.a)
	mustCode(t, k.p.b, k.p.admin, tr.AccessToken, api.CodeValid)
	return step{
		change:    func() error { return c.revoke(t.Context(), k.p.a, tr.RefreshToken) },
		reflected: k.answers(tr.AccessToken, api.CodeRevoked),
	}
}

// clientDeletion deletes a client on A: B must refuse its credentials
// and no longer know its opaque access token.
func (k *changeKinds) clientDeletion(t *testing.T) step {
	c := k.client(t, "opaque", "client_credentials")
	tok := c.mustToken(t, k.p.a).AccessToken
	mustCode(t, k.p.b, k.p.admin, tok, api.CodeValid)
	c.mustToken(t, k.p.b) // B caches the client
	return step{
		change: func() error { return k.p.a.Client(k.p.admin).DeleteClient(t.Context(), c.id) },
		reflected: func(t *testing.T) (bool, string) {
			status := tokenStatus(t, c, k.p.b)
			code := k.verifyCode(t, k.p.b, tok)
			return status == http.StatusUnauthorized && code == api.CodeNotFound,
				fmt.Sprintf("%d at the token endpoint and %s for its access token", status, code)
		},
	}
}

// secretRotation rotates a client's secret on A: B must refuse the old
// one.
func (k *changeKinds) secretRotation(t *testing.T) step {
	c := k.client(t, "jwt", "client_credentials")
	c.mustToken(t, k.p.b) // B caches the client
	return step{
		change: func() error {
			_, err := k.p.a.Client(k.p.admin).RotateClientSecret(t.Context(), c.id)
			return err
		},
		reflected: func(t *testing.T) (bool, string) {
			status := tokenStatus(t, c, k.p.b)
			return status == http.StatusUnauthorized, fmt.Sprintf("%d at the token endpoint for the old secret", status)
		},
	}
}

func tokenStatus(t *testing.T, c oauthClient, n *Node) int {
	t.Helper()
	status, _, err := c.token(t.Context(), n)
	if err != nil || status == http.StatusTooManyRequests {
		t.Fatalf("token on %s: %d, %v", n.URL, status, err)
	}
	return status
}

// signingKeyRotation rotates the signing keys on A: B must publish the
// new key. A rotation is refused while one is pending (for the lead
// time, an hour), so each repetition first lets the pending key become
// active, by moving its activation into the past in the database.
func (k *changeKinds) signingKeyRotation(t *testing.T) step {
	db, err := sql.Open("pgx", k.p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Add(-time.Second).UnixMicro()
	if _, err := db.ExecContext(t.Context(), `UPDATE signing_keys SET active_at = $1 WHERE active_at > $1`, now); err != nil {
		t.Fatal(err)
	}
	before, err := jwksKIDs(t.Context(), k.p.a)
	if err != nil {
		t.Fatal(err)
	}
	var kid string
	return step{
		change: func() error {
			key, err := k.p.a.Client(k.p.admin).RotateSigningKey(t.Context())
			if err == nil && before[key.KID] {
				err = fmt.Errorf("no new key: the rotation gave the known key %s", key.KID)
			}
			if err == nil {
				kid = key.KID
			}
			return err
		},
		reflected: func(t *testing.T) (bool, string) {
			kids, err := jwksKIDs(t.Context(), k.p.b)
			if err != nil {
				t.Fatal(err)
			}
			return kids[kid], fmt.Sprintf("a JWKS without the new key %s: %v", kid, kids)
		},
	}
}
