package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// testAdminKeyLists: the admin lists of keys filter by state, by expiry
// and by last use, and page through every order with a cursor, ties of
// the time orders included; a made-up cursor is ErrBadCursor.
func testAdminKeyLists(t *testing.T, h harness) {
	db := h.open(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		if err := db.CreateAPI(ctx, newAPI(id), event("api.create", id)); err != nil {
			t.Fatal(err)
		}
	}
	mustCreateUser(t, db, newUser("u1", "alice"))
	mustCreateUser(t, db, newUser("u2", "bob"))
	now := at(200 * 24 * time.Hour)
	day := 24 * time.Hour
	pat := func(id, api, owner string, change func(*Key)) {
		k := newPAT(id, api, owner)
		change(&k)
		mustCreateKey(t, db, k)
	}
	// p1–p3 expire on the same day, p4 in a month, p5 has expired, p6 is
	// revoked; p7 never expires.
	pat("p1", "a", "u1", func(k *Key) { k.ExpiresAt = now.Add(3 * day); k.LastUsedAt = now.Add(-day) })
	pat("p2", "a", "u2", func(k *Key) { k.ExpiresAt = now.Add(3 * day) })
	pat("p3", "b", "u1", func(k *Key) { k.ExpiresAt = now.Add(3 * day); k.LastUsedAt = now.Add(-100 * day) })
	pat("p4", "a", "u1", func(k *Key) { k.ExpiresAt = now.Add(30 * day) })
	pat("p5", "b", "u2", func(k *Key) { k.ExpiresAt = now.Add(-day) })
	pat("p6", "a", "u1", func(k *Key) { k.ExpiresAt = now.Add(2 * day); k.RevokedAt = now.Add(-day) })
	pat("p7", "b", "u2", func(k *Key) { k.LastUsedAt = now.Add(-95 * day) })
	mustCreateKey(t, db, newKey("k1", "a", "svc"))
	k2 := newKey("k2", "a", "svc")
	k2.Enabled = false
	mustCreateKey(t, db, k2)

	// all pages through f two keys at a time.
	all := func(f KeyFilter) []string {
		t.Helper()
		f.Limit, f.Now = 2, now
		var out []string
		for range 10 {
			ks, err := db.ListKeys(ctx, f)
			if err != nil {
				t.Fatalf("ListKeys(%+v): %v", f, err)
			}
			for _, k := range ks {
				out = append(out, k.ID)
			}
			if len(ks) < 2 {
				return out
			}
			f.After = KeyCursor(f, ks[len(ks)-1])
		}
		t.Fatalf("ListKeys(%+v) does not end", f)
		return nil
	}
	for _, c := range []struct {
		name string
		f    KeyFilter
		want []string
	}{
		{"every token", KeyFilter{Personal: true}, []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}},
		{"of an API", KeyFilter{Personal: true, APIID: "b"}, []string{"p3", "p5", "p7"}},
		{"of a user", KeyFilter{Personal: true, UserID: "u2"}, []string{"p2", "p5", "p7"}},
		{"expiring in a week", KeyFilter{Personal: true, ExpiringBy: now.Add(7 * day)}, []string{"p1", "p2", "p3"}},
		{"expiring in 40 days", KeyFilter{Personal: true, ExpiringBy: now.Add(40 * day)}, []string{"p1", "p2", "p3", "p4"}},
		{"expiring, of alice", KeyFilter{Personal: true, UserID: "u1", ExpiringBy: now.Add(40 * day)}, []string{"p1", "p3", "p4"}},
		// p2 and p4 were never used and created at t0, 200 days ago.
		{"unused for 90 days", KeyFilter{Personal: true, UnusedSince: now.Add(-90 * day)}, []string{"p2", "p4", "p3", "p7"}},
		{"unused, of API a", KeyFilter{Personal: true, APIID: "a", UnusedSince: now.Add(-90 * day)}, []string{"p2", "p4"}},
		{"revoked", KeyFilter{Personal: true, State: KeyRevoked}, []string{"p6"}},
		{"expired", KeyFilter{Personal: true, State: KeyExpired}, []string{"p5"}},
		{"active", KeyFilter{Personal: true, State: KeyActive}, []string{"p1", "p2", "p3", "p4", "p7"}},
		{"active API keys", KeyFilter{APIID: "a", State: KeyActive}, []string{"k1"}},
		{"disabled API keys", KeyFilter{State: KeyDisabled}, []string{"k2"}},
	} {
		if got := all(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, bad := range []string{"x", "12", ".p1", "x.p1"} {
		_, err := db.ListKeys(ctx, KeyFilter{Personal: true, ExpiringBy: now, Now: now, After: bad, Limit: 5})
		checkErr(t, "ListKeys(cursor "+bad+")", err, ErrBadCursor)
	}
	_, err := db.ListKeys(ctx, KeyFilter{State: "lost", Limit: 5})
	if err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("ListKeys(state lost) = %v, want an error naming it", err)
	}
}

// TestKeyListPlans: on SQLite every admin list of personal access tokens
// is a search of an index that walks in the page's order: no scan of
// the keys table and no sort, at the first page and after a cursor.
func TestKeyListPlans(t *testing.T) {
	db := openDSN(t, t.TempDir()+"/tokend.db")
	now := t0
	for _, f := range []KeyFilter{
		{Personal: true},
		{Personal: true, After: "pat_x"},
		{Personal: true, APIID: "a", After: "pat_x"},
		{Personal: true, UserID: "u1", After: "pat_x"},
		{Personal: true, ExpiringBy: now.Add(time.Hour)},
		{Personal: true, ExpiringBy: now.Add(time.Hour), After: "1.pat_x"},
		{Personal: true, UnusedSince: now.Add(-time.Hour)},
		{Personal: true, UnusedSince: now.Add(-time.Hour), After: "1.pat_x"},
		{Personal: true, State: KeyRevoked, After: "pat_x"},
	} {
		f.Limit, f.Now = 50, now
		q, args, err := keyListQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX keys_") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%+v: plan %q, want an index of keys in the page's order", f, p)
		}
	}
}
