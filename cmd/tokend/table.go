package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// table collects rows of cells and writes them with their columns
// aligned by display width: the columns a terminal gives a cell, two for
// a wide (CJK) character or an emoji sequence, none for a combining
// mark. text/tabwriter counts runes instead and misaligns such cells.
// Cells hold names and descriptions people chose (or a server sent), so
// each is made printable first: a control character cannot end a row,
// move the cursor or start a terminal escape.
//
// Columns are aligned as text/tabwriter aligned them with padding 2: a
// cell that is not the last of its row is padded to the widest cell of
// its column in the run of adjacent rows that have that cell, plus two
// spaces; the last cell of a row is not padded.
type table struct {
	w    io.Writer
	rows [][]string
}

// cellPadding is the space between two columns.
const cellPadding = 2

func newTable(w io.Writer) *table { return &table{w: w} }

// row adds a row of cells.
func (t *table) row(cells ...string) {
	r := make([]string, len(cells))
	for i, c := range cells {
		r[i] = printable(c)
	}
	t.rows = append(t.rows, r)
}

// flush writes the rows.
func (t *table) flush() error {
	widths := columnWidths(t.rows)
	var b strings.Builder
	for i, r := range t.rows {
		for j, c := range r {
			b.WriteString(c)
			if j < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i][j]-displayWidth(c)))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(t.w, b.String())
	t.rows = nil
	return err
}

// columnWidths returns, for each cell but the last of each row, the width
// it is padded to: the widest cell of its column among the adjacent rows
// that also have a cell after it, plus cellPadding.
func columnWidths(rows [][]string) [][]int {
	out := make([][]int, len(rows))
	for i, r := range rows {
		out[i] = make([]int, max(len(r)-1, 0))
	}
	for col, more := 0, true; more; col++ {
		more = false
		for i := 0; i < len(rows); {
			if len(rows[i]) <= col+1 {
				i++
				continue
			}
			end, w := i, 0
			for ; end < len(rows) && len(rows[end]) > col+1; end++ {
				w = max(w, displayWidth(rows[end][col]))
			}
			for k := i; k < end; k++ {
				out[k][col] = w + cellPadding
			}
			i, more = end, true
		}
	}
	return out
}

// displayWidth is the number of terminal columns s takes, grapheme
// cluster by grapheme cluster (Unicode East Asian Width and emoji
// presentation, as uniseg measures them).
func displayWidth(s string) int { return uniseg.StringWidth(s) }

// printable returns s with what a terminal would not show as text
// escaped as Go escapes it (\n, \r, \t, \x1b, \u009b, \u202e, \xff):
// C0, DEL and C1 controls, the bidi controls that reorder a line, the
// line and paragraph separators, and bytes that are not UTF-8. Other
// text, wide and combining characters included, is kept.
func printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, unsafeRune) >= 0
}

// unsafeRune reports whether r is one that printable escapes.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}
