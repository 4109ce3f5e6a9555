package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// TestAdminPasskeys: an admin lists a user's passkeys and removes one;
// another user's passkey and unknown ids are 404, and a caller without
// an admin key is refused. The passkeys are put in the store directly:
// their registration is package user's (tested there with a software
// authenticator).
func TestAdminPasskeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	alice, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "alice", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.Client.CreateUser(ctx, api.CreateUserRequest{Username: "bob", Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, p := range []store.Passkey{
		{ID: "pk_a1", UserID: alice.ID, CredentialID: []byte("cred-a1"), Name: "laptop", CreatedAt: now},
		{ID: "pk_a2", UserID: alice.ID, CredentialID: []byte("cred-a2"), Name: "phone", Transports: []string{"hybrid"},
			BackupEligible: true, BackupState: true, CreatedAt: now.Add(time.Second)},
		{ID: "pk_b1", UserID: bob.ID, CredentialID: []byte("cred-b1"), Name: "key", CreatedAt: now},
	} {
		p.PublicKey, p.AttestationType, p.AttestationFormat = []byte{byte(i)}, "none", "none"
		if err := f.DB.CreatePasskey(ctx, p, store.Event{Time: now, Actor: p.UserID, Action: "passkey.create",
			TargetType: "passkey", TargetID: p.ID}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := f.Client.UserPasskeys(ctx, alice.ID)
	if err != nil || len(list.Passkeys) != 2 || list.Passkeys[0].Name != "laptop" || list.Passkeys[1].Name != "phone" ||
		!list.Passkeys[1].BackedUp || list.Passkeys[0].AAGUID != "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("UserPasskeys(alice) = %+v, %v; want laptop then phone (backed up)", list, err)
	}
	if _, err := f.Client.UserPasskeys(ctx, "usr_nope"); problemCode(err) != api.ErrNotFound {
		t.Errorf("UserPasskeys(unknown user) = %v, want not-found", err)
	}
	if err := f.Client.DeleteUserPasskey(ctx, bob.ID, "pk_a1"); problemCode(err) != api.ErrNotFound {
		t.Errorf("deleting alice's passkey as bob's = %v, want not-found", err)
	}
	if err := f.Client.DeleteUserPasskey(ctx, alice.ID, "pk_a1"); err != nil {
		t.Fatal(err)
	}
	if err := f.Client.DeleteUserPasskey(ctx, alice.ID, "pk_a1"); problemCode(err) != api.ErrNotFound {
		t.Errorf("deleting it again = %v, want not-found", err)
	}
	if list, err := f.Client.UserPasskeys(ctx, alice.ID); err != nil || len(list.Passkeys) != 1 || list.Passkeys[0].ID != "pk_a2" {
		t.Errorf("after delete: %+v, %v; want only pk_a2", list, err)
	}
	resp, _ := f.raw(t, "GET", "/v1/users/"+alice.ID+"/passkeys", "", "", "none")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a key: %d, want 401", resp.StatusCode)
	}
	evs, err := f.DB.ListEvents(ctx, store.EventFilter{Action: "passkey.delete", Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].TargetID != "pk_a1" || evs[0].Actor == "" {
		t.Errorf("passkey.delete events = %+v, %v; want one for pk_a1 by the admin key", evs, err)
	}
}
