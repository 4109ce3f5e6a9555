package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testApprovals: a personal access token and a client keep their
// approval, the approvals list pages each state oldest first across both
// kinds, a decision announces the credential on the invalidation channel,
// and the creation writes every event it is given.
func testApprovals(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	a := newAPI("a")
	a.Policy.ApproveDynamicClients, a.Policy.PATApprovalScopes = true, []string{"write"}
	if err := db.CreateAPI(ctx, a, event("api.create", "a")); err != nil {
		t.Fatal(err)
	}
	if got, err := db.APIByID(ctx, "a"); err != nil || !got.Policy.ApproveDynamicClients || !cmp.Equal(got.Policy.PATApprovalScopes, []string{"write"}) {
		t.Fatalf("APIByID = policy %+v, %v; want the approval settings kept", got.Policy, err)
	}
	mustCreateUser(t, db, newUser("u1", "alice", "eng"))

	pending := Approval{State: ApprovalPending}
	p1 := newPAT("p1", "a", "u1")
	p1.Approval, p1.CreatedAt = pending, at(time.Second)
	s1 := newSecret("secret-p1", p1.CreatedAt)
	if err := db.CreateKey(ctx, p1, s1, event("pat.create", "p1"), event("approval.requested", "p1")); err != nil {
		t.Fatal(err)
	}
	p2 := newPAT("p2", "a", "u1") // needs none
	mustCreateKey(t, db, p2)
	c1 := newClient("c1")
	c1.Approval, c1.Dynamic, c1.CreatedAt = pending, true, at(2*time.Second)
	if err := db.CreateClient(ctx, c1, event("client.register", "c1"), event("approval.requested", "c1")); err != nil {
		t.Fatal(err)
	}
	c0 := newClient("c0")
	c0.Approval = pending // created first: listed first
	if err := db.CreateClient(ctx, c0, event("client.register", "c0")); err != nil {
		t.Fatal(err)
	}
	checkLog(t, db, "api.create a", "user.create u1", "pat.create p1", "approval.requested p1", "key.create p2",
		"client.register c1", "approval.requested c1", "client.register c0")

	list := func(f ApprovalFilter) []string {
		t.Helper()
		items, err := db.ListApprovals(ctx, f)
		if err != nil {
			t.Fatalf("ListApprovals(%+v): %v", f, err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.ID()+"="+it.Approval().State)
		}
		return out
	}
	if got, want := list(ApprovalFilter{State: ApprovalPending, Limit: 10}), []string{"c0=pending", "p1=pending", "c1=pending"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(pending) = %v, want %v", got, want)
	}
	first, err := db.ListApprovals(ctx, ApprovalFilter{State: ApprovalPending, Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("ListApprovals(limit 2) = %d items, %v", len(first), err)
	}
	if got, want := list(ApprovalFilter{State: ApprovalPending, Limit: 2, After: ApprovalCursor(first[1])}), []string{"c1=pending"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(page 2) = %v, want %v", got, want)
	}
	_, err = db.ListApprovals(ctx, ApprovalFilter{State: ApprovalPending, Limit: 2, After: "nonsense"})
	checkErr(t, "ListApprovals(bad cursor)", err, ErrBadCursor)
	if _, err := db.ListApprovals(ctx, ApprovalFilter{State: "maybe", Limit: 2}); err == nil {
		t.Error("ListApprovals(state maybe) succeeded")
	}

	// A decision is a change of the token, announced with its secret.
	heard := subscribe(t, db)
	decided := at(time.Hour)
	k, err := db.UpdateKey(ctx, "p1", func(k *Key) (Event, error) {
		k.Approval = Approval{State: ApprovalApproved, Reason: "ok for CI", DecidedAt: decided}
		return event("approval.approved", "p1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustKey(t, db, "p1").Approval; got != k.Approval || got.DecidedAt != decided {
		t.Errorf("KeyByID(p1).Approval = %+v, want %+v", got, k.Approval)
	}
	if got := heard.take(); len(got) != 1 || !cmp.Equal(got[0].Secrets, [][32]byte{s1.Hash}) {
		t.Errorf("approving p1 announced %+v, want its secret", got)
	}
	vr, err := db.KeyBySecretHash(ctx, s1.Hash)
	if err != nil || vr.Key.Approval.State != ApprovalApproved {
		t.Errorf("KeyBySecretHash(p1) = approval %+v, %v; want approved", vr.Key.Approval, err)
	}
	_, err = db.UpdateClient(ctx, "c1", func(c *Client) (Event, error) {
		c.Approval = Approval{State: ApprovalDenied, Reason: "unknown vendor", DecidedAt: decided}
		return event("approval.denied", "c1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := heard.take(); len(got) != 1 || !cmp.Equal(got[0].Clients, []string{"c1"}) {
		t.Errorf("denying c1 announced %+v, want the client", got)
	}
	c, err := db.ClientByID(ctx, "c1")
	if want := (Approval{State: ApprovalDenied, Reason: "unknown vendor", DecidedAt: decided}); err != nil || c.Approval != want {
		t.Errorf("ClientByID(c1).Approval = %+v, %v; want %+v", c.Approval, err, want)
	}
	if got, want := list(ApprovalFilter{State: ApprovalPending, Limit: 10}), []string{"c0=pending"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(pending) after decisions = %v, want %v", got, want)
	}
	if got, want := list(ApprovalFilter{State: ApprovalDenied, Limit: 10}), []string{"c1=denied"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(denied) = %v, want %v", got, want)
	}
	// A pending token its owner revoked leaves the pending list.
	p3 := newPAT("p3", "a", "u1")
	p3.Approval, p3.CreatedAt = pending, at(3*time.Second)
	mustCreateKey(t, db, p3)
	if got, want := list(ApprovalFilter{State: ApprovalPending, Limit: 10}), []string{"c0=pending", "p3=pending"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(pending) with p3 = %v, want %v", got, want)
	}
	if _, err := db.UpdateKey(ctx, "p3", func(k *Key) (Event, error) {
		k.RevokedAt = at(time.Hour)
		return event("pat.revoke", "p3"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := list(ApprovalFilter{State: ApprovalPending, Limit: 10}), []string{"c0=pending"}; !cmp.Equal(got, want) {
		t.Errorf("ListApprovals(pending) after p3's revocation = %v, want %v", got, want)
	}
	if got := mustKey(t, db, "p2").Approval; got != (Approval{}) {
		t.Errorf("KeyByID(p2).Approval = %+v, want none", got)
	}
}
