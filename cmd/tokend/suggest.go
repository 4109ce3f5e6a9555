package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// unknownCommand is the usage error of a command word that is not one of
// known, with the nearest known word when one is close.
func unknownCommand(word, where string, known []string) error {
	if s := suggest(word, known); s != "" {
		return fmt.Errorf("%w: unknown command %q for %s; did you mean %q?", errUsage, word, where, s)
	}
	return fmt.Errorf("%w: unknown command %q for %s", errUsage, word, where)
}

// flagError rewrites an error of flag.FlagSet.Parse in tokend's words: an
// unknown flag gets the nearest defined one, and flags are spelled --name.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var defined []string
		fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
		msg = fmt.Sprintf("unknown flag --%s", name)
		if s := suggest(name, defined); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
		return fmt.Errorf("%w: %s", errUsage, msg)
	}
	msg = strings.Replace(msg, " for flag -", " for --", 1)
	msg = strings.Replace(msg, "flag needs an argument: -", "flag needs an argument: --", 1)
	return fmt.Errorf("%w: %s", errUsage, errors.New(msg))
}

// suggest returns the word of known nearest to w, if it is near enough to
// be a typo: a few edits away, or w is its start or it is w's start.
func suggest(w string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		d := distance(w, k)
		if best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	switch {
	case best == "":
		return ""
	case bestD <= max(1, len(w)/3):
		return best
	}
	for _, k := range known {
		if len(w) >= 3 && (strings.HasPrefix(k, w) || strings.HasPrefix(w, k)) {
			return k
		}
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
