package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/tokend/tokend/api"
)

// wide are the test's names whose display width it knows, as a terminal
// shows them: CJK characters take two columns, an emoji (with a skin
// tone, a flag, a ZWJ family) two, a combining mark none.
var wide = map[string]int{
	"課金":              4,
	"李小龍":             6,
	"東京の鍵":            8,
	"🚀":               2,
	"👍🏽":              2,
	"🇫🇷":              2,
	"👨\u200d👩\u200d👧": 2,
	"cafe\u0301":      4,
	"Zoe\u0308":       3,
	"…":               1, // in the KEY column: bill_LSiR…nlSf
}

// TestTablesAlignByDisplayWidth runs the list commands against a real
// server whose names hold wide characters, emoji and combining marks:
// every row's columns start at the display columns of the header's.
// text/tabwriter counted runes, so a row with 李小龍 pushed its next
// columns three columns right of the header's.
func TestTablesAlignByDisplayWidth(t *testing.T) {
	url, admin, _, _ := startServe(t, t.TempDir())
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "課金 🚀", "--audience", "https://pay.example",
		"--scopes", "read", "--key-prefix", "pay"), &a)
	cli(t, url, admin, 0, "apis", "create", "--name", "Plain", "--audience", "https://plain.example", "--scopes", "read", "--key-prefix", "pln")
	for _, name := range []string{"東京の鍵", "cafe\u0301 👍🏽", "👨\u200d👩\u200d👧 family", "plain"} {
		cli(t, url, admin, 0, "keys", "create", "--api", a.ID, "--subject", "s", "--name", name)
	}
	for _, u := range [][]string{{"李小龍", "🚀,cafe\u0301"}, {"zoe", "Zoe\u0308,🇫🇷"}, {"alice", "ops"}} {
		cli(t, url, admin, 0, "users", "create", "--username", u[0], "--email", "x@example.com", "--groups", u[1])
	}
	for _, name := range []string{"cafe\u0301 🇫🇷", "東京の鍵", "worker"} {
		cli(t, url, admin, 0, "clients", "create", "--name", name, "--scopes", a.ID+":read")
	}
	for _, args := range [][]string{{"apis", "list"}, {"keys", "list", "--api", a.ID}, {"users", "list"}, {"clients", "list"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := cli(t, url, admin, 0, args...)
			checkAligned(t, out)
		})
	}
}

// checkAligned checks that the cells of every line of a table start at
// the display columns where the header's do. A cell starts after two
// spaces or more; the names of the test are measured by wide.
func checkAligned(t *testing.T, table string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	header := cellStarts(t, lines[0])
	for _, l := range lines[1:] {
		if got := cellStarts(t, l); !slices.Equal(got, header) {
			t.Errorf("cells start at columns %v, the header's at %v:\n%s", got, header, table)
			return
		}
	}
}

func cellStarts(t *testing.T, line string) []int {
	t.Helper()
	names := make([]string, 0, len(wide))
	for s := range wide {
		names = append(names, s)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, s := range names {
		line = strings.ReplaceAll(line, s, strings.Repeat("#", wide[s]))
	}
	if i := strings.IndexFunc(line, func(r rune) bool { return r > unicode.MaxASCII }); i >= 0 {
		t.Fatalf("line %q has text of unknown width at %d", line, i)
	}
	var starts []int
	for i := range len(line) {
		if line[i] != ' ' && (i == 0 || i >= 2 && line[i-1] == ' ' && line[i-2] == ' ') {
			starts = append(starts, i)
		}
	}
	return starts
}

// label is the start of a line of a show command.
var label = regexp.MustCompile(`^[A-Z][A-Za-z0-9_ ]*:  `)

// TestTablesEscapeControlCharacters: names that hold terminal escapes,
// carriage returns and line breaks (written to the database behind the
// server's back, as an older version or another tool could have, or in
// key metadata, which the server keeps as given) are shown escaped, as
// \x1b, \r, \n: the table keeps one line per row and its columns, and no
// escape reaches the terminal.
func TestTablesEscapeControlCharacters(t *testing.T) {
	dir := t.TempDir()
	url, admin, _, stop := startServe(t, dir)
	var a api.API
	mustJSON(t, cli(t, url, admin, 0, "apis", "create", "--json", "--name", "Pay", "--audience", "https://pay.example",
		"--scopes", "read", "--key-prefix", "pay"), &a)
	var u api.CreatedUser
	mustJSON(t, cli(t, url, admin, 0, "users", "create", "--json", "--username", "mallory", "--email", "m@example.com",
		"--groups", "ops"), &u)
	cli(t, url, admin, 0, "users", "create", "--username", "alice", "--email", "a@example.com", "--groups", "ops")
	var cl api.CreatedClient
	mustJSON(t, cli(t, url, admin, 0, "clients", "create", "--json", "--name", "evil", "--scopes", a.ID+":read"), &cl)
	cli(t, url, admin, 0, "clients", "create", "--name", "good", "--scopes", a.ID+":read")
	var k api.CreatedKey
	mustJSON(t, cli(t, url, admin, 0, "keys", "create", "--json", "--api", a.ID, "--subject", "s",
		"--metadata", `{"note":"`+"\u009b31m\u202eC1 CSI"+`"}`), &k)
	if code := stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "tokend.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct{ sql, value, id string }{
		{`UPDATE users SET email = $1 WHERE id = $2`, "m\x1b[2J@example.com\r\nusr_fake fake", u.User.ID},
		{`UPDATE users SET display_name = $1 WHERE id = $2`, "\x1b]0;owned\x07Mal\tlory\x7f", u.User.ID},
		{`UPDATE oauth_clients SET name = $1 WHERE id = $2`, "ev\x1b[31mil\rcli_fake\u2028x", cl.Client.ID},
	} {
		if _, err := db.ExecContext(t.Context(), q.sql, q.value, q.id); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	url, _, _, _ = startServe(t, dir) // the same admin key

	for _, c := range []struct {
		args  []string
		lines int
		want  []string
	}{
		{[]string{"users", "list"}, 3, []string{`m\x1b[2J@example.com\r\nusr_fake fake`}},
		{[]string{"users", "show", u.User.ID}, 0, []string{`\x1b]0;owned\aMal\tlory\x7f`}},
		{[]string{"clients", "list"}, 4, []string{`ev\x1b[31mil\rcli_fake\u2028x`}},
		{[]string{"clients", "show", cl.Client.ID}, 0, []string{`ev\x1b[31mil\rcli_fake\u2028x`}},
		{[]string{"keys", "show", k.Key.ID}, 0, []string{`\u009b31m\u202eC1 CSI`}},
	} {
		t.Run(strings.Join(c.args[:2], " "), func(t *testing.T) {
			out := cli(t, url, admin, 0, c.args...)
			if !utf8.ValidString(out) {
				t.Errorf("output is not UTF-8: %q", out)
			}
			if i := strings.IndexFunc(out, func(r rune) bool { return r != '\n' && unsafeRune(r) }); i >= 0 {
				t.Errorf("output has %q at %d:\n%q", out[i:i+1], i, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "\n"); c.lines > 0 && n != c.lines {
				t.Errorf("%d lines, want %d:\n%s", n, c.lines, out)
			}
			if c.args[1] == "list" {
				checkAligned(t, out)
			} else {
				for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if !label.MatchString(l) {
						t.Errorf("line %q is not a label and its value:\n%s", l, out)
					}
				}
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"李小龍 cafe\u0301 👨\u200d👩\u200d👧", "李小龍 cafe\u0301 👨\u200d👩\u200d👧"},
		{"a\x1b[31mb", `a\x1b[31mb`},
		{"a\r\nb\tc\x00d\x7f", `a\r\nb\tc\x00d\x7f`},
		{"\u009b2J \u202eevil\u2066 \u2028\u2029", `\u009b2J \u202eevil\u2066 \u2028\u2029`},
		{"bad \xff\xc3 utf8", `bad \xff\xc3 utf8`},
		{`back\slash`, `back\slash`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTableASCIIAsTabwriter: for ASCII cells, rows of one length or of
// several, the table writes what text/tabwriter wrote with the settings
// the CLI used, so that no script reading the old output breaks.
func TestTableASCIIAsTabwriter(t *testing.T) {
	rows := [][]string{
		{"ID", "NAME", "STATE"},
		{"key_1", "a longer name", "active"},
		{"Label:", "value"},
		{"Other label:", "v"},
		{"x", "y", "z", "w"},
		{"single"},
		{"", "empty first", ""},
		{"p", "q", "r"},
	}
	var want, got strings.Builder
	tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
	tb := newTable(&got)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
		tb.row(r...)
	}
	tw.Flush()
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("table wrote\n%q\ntabwriter wrote\n%q", got.String(), want.String())
	}
}
