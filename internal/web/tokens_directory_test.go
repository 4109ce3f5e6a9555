package web_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/ldap"
	"github.com/tokend/tokend/internal/ldap/ldaptest"
	"github.com/tokend/tokend/internal/servertest"
	"github.com/tokend/tokend/internal/user"
)

// TestPATFollowsDirectoryGroups: the personal access token of a person
// from the directory (a real slapd) stops working as soon as the
// directory check finds they left the group that granted its scope, or
// that the directory locked them, and works again once they are back,
// without anyone touching the token.
func TestPATFollowsDirectoryGroups(t *testing.T) {
	lds := ldaptest.Start(t)
	dir, err := ldap.New(ldap.Config{URL: lds.URL, CAFile: lds.CAFile, BindDN: ldaptest.SearchDN, BindPassword: ldaptest.SearchPassword,
		UserBase: ldaptest.PeopleBase, GroupBase: ldaptest.GroupBase})
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, servertest.Options{Directory: dir})
	ctx := t.Context()
	a, err := s.Client.CreateAPI(ctx, api.CreateAPIRequest{Name: "Payments", Audience: "https://pay.example", Scopes: []string{"read"},
		KeyPrefix: "pay", Policy: api.Policy{UserScopes: []api.UserScopes{{Group: "admins", Scopes: []string{"read"}}},
			PATMaxTTL: api.Duration(30 * 24 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Users.SignIn(ctx, "alice", "alice-password-1", user.ClientMeta{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := api.Duration(24 * time.Hour)
	_, secret, err := s.Keys.CreatePAT(ctx, audit.System, in.User.ID, api.CreateTokenRequest{APIID: a.ID, Name: "ci",
		Scopes: []string{"read"}, TTL: &ttl})
	if err != nil {
		t.Fatal(err)
	}
	membership := func(op, who string) {
		t.Helper()
		ldif := "dn: cn=admins," + ldaptest.GroupBase + "\nchangetype: modify\n" + op + ": member\nmember: uid=" + who + "," + ldaptest.PeopleBase + "\n"
		cmd := exec.Command("ldapmodify", "-x", "-H", lds.URL, "-D", ldaptest.RootDN, "-w", ldaptest.RootPassword)
		cmd.Stdin = strings.NewReader(ldif)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ldapmodify (%s): %v\n%s", op, err, out)
		}
		if err := s.Users.CheckDirectory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(want api.Code) {
		t.Helper()
		r, err := s.Client.Verify(context.Background(), api.VerifyRequest{Token: secret, Audience: "https://pay.example", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != want {
			t.Errorf("verify = %s, want %s", r.Code, want)
		}
	}
	verify(api.CodeValid)
	membership("add", "carol") // a groupOfNames must keep a member
	verify(api.CodeValid)
	membership("delete", "alice")
	verify(api.CodeDisabled)
	membership("add", "alice")
	verify(api.CodeValid)
	// Locked in the directory: the token stops at the next check, and
	// works again at the check after the unlock.
	lock := func(op string) {
		t.Helper()
		ldif := "dn: uid=alice," + ldaptest.PeopleBase + "\nchangetype: modify\n" + op + ": pwdAccountLockedTime\n"
		if op == "add" {
			ldif += "pwdAccountLockedTime: 000001010000Z\n"
		}
		cmd := exec.Command("ldapmodify", "-x", "-H", lds.URL, "-D", ldaptest.RootDN, "-w", ldaptest.RootPassword)
		cmd.Stdin = strings.NewReader(ldif)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ldapmodify (%s lock): %v\n%s", op, err, out)
		}
		if err := s.Users.CheckDirectory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	lock("add")
	verify(api.CodeDisabled)
	lock("delete")
	verify(api.CodeValid)
}
