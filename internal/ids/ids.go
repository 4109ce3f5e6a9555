// Package ids makes the public identifiers of tokend's records: a type
// prefix, then 26 characters of lowercase base32hex that sort in creation
// order (48 bits of milliseconds, then 80 random bits). Identifiers name
// and manage a record; they never authenticate.
package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// alphabet is lowercase base32hex, which sorts as the bytes it encodes.
const alphabet = "0123456789abcdefghijklmnopqrstuv"

var enc = base32.NewEncoding(alphabet).WithPadding(base32.NoPadding)

// New returns prefix + "_" + a time-ordered random identifier.
func New(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:]) // never fails (Go 1.24+)
	return prefix + "_" + enc.EncodeToString(b[:])
}

// Valid reports whether id could have come from New with this prefix:
// the prefix, "_" and 26 characters of lowercase base32hex. Callers use it
// to refuse ids of the wrong shape before any lookup or bookkeeping.
func Valid(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	// Every character must be in the alphabet: the base32 decoder would
	// skip \r and \n. The last character holds the last 3 bits of the 128
	// and 2 bits that New leaves 0.
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return strings.IndexByte(alphabet, rest[25])&3 == 0
}
