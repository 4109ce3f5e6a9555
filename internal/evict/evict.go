// Package evict makes room in the bounded in-process tables that anyone
// can grow, one entry per client address or made-up owner: the rate
// limits, failure counters and report limits. It imports no module
// package and holds no state; each table keeps its own lock and decides
// what counts as expired.
package evict

// MakeRoom returns the entries of m, a table that holds at most limit
// entries (limit > 0), that make room for new ones: none for which
// expired reports true (an ended window, a drained limit: dropping them
// loses nothing), and of the rest at most limit - max(limit/16, 1),
// chosen arbitrarily (Go's map order is randomized). Freeing a sixteenth
// at once, rather than one entry, keeps a flood of new keys from paying
// a scan of the whole table for each. The entries go to a new map, since
// a map never shrinks.
func MakeRoom[K comparable, V any](m map[K]V, limit int, expired func(V) bool) map[K]V {
	keep := limit - max(limit/16, 1)
	out := make(map[K]V, limit)
	for k, v := range m {
		if len(out) >= keep {
			break
		}
		if !expired(v) {
			out[k] = v
		}
	}
	return out
}
