package store

import (
	"strconv"
	"strings"
)

// filter builds the WHERE clause of a list query with numbered
// placeholders, the same on both dialects: each "$?" in a condition
// becomes the next $n, bound to that condition's argument.
type filter struct {
	conds []string
	args  []any
}

// add appends cond, whose "$?" stands for arg.
func (f *filter) add(cond string, arg any) {
	f.args = append(f.args, arg)
	f.conds = append(f.conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(f.args))))
}

// addArgs appends cond, whose "$1?", "$2?" … stand for args in turn.
func (f *filter) addArgs(cond string, args ...any) {
	for i, a := range args {
		f.args = append(f.args, a)
		cond = strings.ReplaceAll(cond, "$"+strconv.Itoa(i+1)+"?", "$"+strconv.Itoa(len(f.args)))
	}
	f.conds = append(f.conds, cond)
}

// addCond appends cond, which takes no argument.
func (f *filter) addCond(cond string) { f.conds = append(f.conds, cond) }

// page returns the query "SELECT ... FROM ..." (from) with the
// conditions, ordered by order and limited to limit rows, and its
// arguments.
func (f *filter) page(from, order string, limit int) (string, []any) {
	q := from
	if len(f.conds) > 0 {
		q += ` WHERE ` + strings.Join(f.conds, " AND ")
	}
	f.args = append(f.args, limit)
	return q + ` ORDER BY ` + order + ` LIMIT $` + strconv.Itoa(len(f.args)), f.args
}
