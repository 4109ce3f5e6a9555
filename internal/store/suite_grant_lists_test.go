package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// testAdminGrantLists: the admin list of every user's grants filters by
// user, client, API and last use, combined, and pages through every
// order with a cursor, ties of last use included; replacing a grant
// moves it between APIs; deleting a grant, its user or its API takes it
// out of the API's list; a made-up cursor is ErrBadCursor.
func testAdminGrantLists(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	mustCreateAPI(t, db, "b")
	mustCreateClient(t, db, "c1") // creates API a
	mustCreateClient(t, db, "c2.example/app")
	for _, u := range []string{"u1", "u2", "u3"} {
		mustCreateUser(t, db, newUser(u, "user-"+u))
	}
	day := 24 * time.Hour
	now := at(200 * day)
	grant := func(user, client string, used time.Time, apis ...string) {
		t.Helper()
		g := Grant{UserID: user, ClientID: client, Scopes: []string{"read"}, APIIDs: apis, CreatedAt: t0, LastUsedAt: used}
		if err := db.SaveGrant(ctx, g, event("grant.create", client)); err != nil {
			t.Fatal(err)
		}
	}
	grant("u1", "c1", now.Add(-day), "a")
	grant("u1", "c2.example/app", now.Add(-100*day), "a", "b")
	grant("u2", "c1", now.Add(-100*day), "b")
	grant("u2", "c2.example/app", now.Add(-95*day))
	grant("u3", "c1", now.Add(-100*day), "a", "gone")

	all := func(f GrantFilter) []string {
		t.Helper()
		f.Limit = 2
		var out []string
		for range 10 {
			gs, err := db.ListAllGrants(ctx, f)
			if err != nil {
				t.Fatalf("ListAllGrants(%+v): %v", f, err)
			}
			for _, g := range gs {
				out = append(out, g.UserID+"/"+g.ClientID)
			}
			if len(gs) < 2 {
				return out
			}
			f.After = GrantCursor(f, gs[len(gs)-1])
		}
		t.Fatalf("ListAllGrants(%+v) does not end", f)
		return nil
	}
	unused := now.Add(-90 * day)
	check := func(name string, f GrantFilter, want ...string) {
		t.Helper()
		if got := all(f); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("every grant", GrantFilter{}, "u1/c1", "u1/c2.example/app", "u2/c1", "u2/c2.example/app", "u3/c1")
	check("of a user", GrantFilter{UserID: "u2"}, "u2/c1", "u2/c2.example/app")
	check("of a client", GrantFilter{ClientID: "c1"}, "u1/c1", "u2/c1", "u3/c1")
	check("of an API", GrantFilter{APIID: "a"}, "u1/c1", "u1/c2.example/app", "u3/c1")
	check("of an API and a user", GrantFilter{APIID: "b", UserID: "u2"}, "u2/c1")
	check("of an API and a client", GrantFilter{APIID: "a", ClientID: "c1"}, "u1/c1", "u3/c1")
	// u1/c2, u2/c1 and u3/c1 tie at 100 days.
	check("unused for 90 days", GrantFilter{UnusedSince: unused}, "u1/c2.example/app", "u2/c1", "u3/c1", "u2/c2.example/app")
	check("unused, of API a", GrantFilter{APIID: "a", UnusedSince: unused}, "u1/c2.example/app", "u3/c1")
	check("unused, of client c1", GrantFilter{ClientID: "c1", UnusedSince: unused}, "u2/c1", "u3/c1")
	check("unused, of u2", GrantFilter{UserID: "u2", UnusedSince: unused}, "u2/c1", "u2/c2.example/app")
	check("of an unknown API", GrantFilter{APIID: "gone"})

	// A grant given again with other APIs moves between their lists.
	grant("u1", "c1", now, "b")
	check("API a after u1 regranted c1 for b", GrantFilter{APIID: "a"}, "u1/c2.example/app", "u3/c1")
	check("API b after u1 regranted c1 for b", GrantFilter{APIID: "b"}, "u1/c1", "u1/c2.example/app", "u2/c1")
	if _, err := db.RevokeGrant(ctx, "u2", "c1", now, event("grant.revoke", "c1")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "u3", event("user.delete", "u3")); err != nil {
		t.Fatal(err)
	}
	check("API b after a revoke", GrantFilter{APIID: "b"}, "u1/c1", "u1/c2.example/app")
	check("API a after a user's deletion", GrantFilter{APIID: "a"}, "u1/c2.example/app")
	check("every grant after", GrantFilter{}, "u1/c1", "u1/c2.example/app", "u2/c2.example/app")

	for _, c := range []struct {
		f      GrantFilter
		cursor string
	}{{GrantFilter{}, "nodot"}, {GrantFilter{}, ".c1"}, {GrantFilter{}, "u1."}, {GrantFilter{UnusedSince: unused}, "u1.c1"},
		{GrantFilter{UnusedSince: unused}, "x.u1.c1"}} {
		c.f.After, c.f.Limit = c.cursor, 5
		_, err := db.ListAllGrants(ctx, c.f)
		checkErr(t, "ListAllGrants(cursor "+c.cursor+")", err, ErrBadCursor)
	}
	if _, err := db.ListAllGrants(ctx, GrantFilter{}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("ListAllGrants(limit 0) = %v, want an error", err)
	}
}

// TestGrantListPlans: on SQLite every admin list of grants by one filter
// is a search of an index that walks in the page's order: no scan of the
// grants and no sort, at the first page and after a cursor. (Two filters
// together walk or sort the rows of one of them: a user's, a client's,
// an API's.)
func TestGrantListPlans(t *testing.T) {
	db := openDSN(t, t.TempDir()+"/tokend.db")
	for _, f := range []GrantFilter{
		{},
		{APIID: "a"},
		{UserID: "u"},
		{ClientID: "c"},
		{UnusedSince: t0},
		{After: "u.c"},
		{UserID: "u", After: "u.c"},
		{ClientID: "c", After: "u.c"},
		{APIID: "a", After: "u.c"},
		{APIID: "a", UserID: "u", After: "u.c"},
		{UnusedSince: t0, After: "1.u.c"},
	} {
		f.Limit = 50
		q, args, err := grantListQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		// The bare first page walks the grants in their primary key's
		// order (a WITHOUT ROWID table is its key's index); every other
		// searches an index.
		p := queryPlan(t, db, q, args)
		if strings.Contains(p, "TEMP B-TREE") || f.After != "" && !strings.Contains(p, "SEARCH") ||
			strings.Contains(p, "SCAN") && !strings.Contains(p, " USING ") && p != "SCAN g" {
			t.Errorf("%+v: plan %q, want an index search in the page's order", f, p)
		}
	}
}

// queryPlan is SQLite's plan of q, its lines joined.
func queryPlan(t *testing.T, db *DB, q string, args []any) string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}
