package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"math/big"
)

// The opaque token format (DESIGN §1):
//
//	<prefix>_<body><checksum>
//
// prefix is 1 to 16 of [a-z0-9_]; body is the 32 random bytes in base62,
// left-padded with '0' to 43 characters; checksum is the CRC-32 (IEEE) of
// "<prefix>_<body>" in base62, left-padded to 6 characters. The checksum
// lets tokend refuse a mistyped or forged token without a database lookup;
// it is not a MAC and adds no secrecy.
const (
	bodyLen     = 43
	checksumLen = 6
	// TailLen is the length of what follows the prefix: "_", the body and
	// the checksum.
	TailLen = 1 + bodyLen + checksumLen
	// MaxPrefixLen is the longest prefix an API may choose.
	MaxPrefixLen = 16
	// MaxTokenLen is the length of the longest well-formed token.
	MaxTokenLen = MaxPrefixLen + TailLen
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ValidPrefix reports whether p may prefix tokens: 1 to 16 characters of
// lowercase letters, digits and '_'.
func ValidPrefix(p string) bool {
	if len(p) == 0 || len(p) > MaxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Generate returns a new token with the given prefix from 32 bytes of
// crypto/rand. The prefix must satisfy ValidPrefix.
func Generate(prefix string) string {
	var b [32]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	return Format(prefix, b)
}

// Format builds the token for prefix and random bytes r. Generate is the
// normal entry point; Format exists for the test vectors.
func Format(prefix string, r [32]byte) string {
	head := prefix + "_" + encode62(new(big.Int).SetBytes(r[:]), bodyLen)
	return head + encode62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(head)))), checksumLen)
}

func encode62(n *big.Int, width int) string {
	out := make([]byte, width)
	base, mod := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// Parse checks the shape and checksum of token and returns its prefix.
// ok is false for anything that is not a well-formed tokend token; such a
// token cannot exist in the database, so callers answer without a lookup.
// Parse does not allocate.
func Parse(token string) (prefix string, ok bool) {
	if len(token) <= TailLen || len(token) > MaxTokenLen {
		return "", false
	}
	cut := len(token) - TailLen
	if token[cut] != '_' || !ValidPrefix(token[:cut]) {
		return "", false
	}
	for i := cut + 1; i < len(token); i++ {
		if decode62(token[i]) < 0 {
			return "", false
		}
	}
	var sum uint64
	for i := len(token) - checksumLen; i < len(token); i++ {
		sum = sum*62 + uint64(decode62(token[i]))
	}
	if sum != uint64(crc32.ChecksumIEEE(unsafeBytes(token[:len(token)-checksumLen]))) {
		return "", false
	}
	return token[:cut], true
}

func decode62(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// Hash returns the SHA-256 of token, the only form in which tokend stores
// a secret. A fast hash is right for 256 random bits (DESIGN §6).
func Hash(token string) [32]byte {
	var buf [MaxTokenLen]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// Display returns the fragments people see: the first and last four
// characters of the secret part (after the prefix).
func Display(token string) (start, end string) {
	cut := len(token) - TailLen + 1
	return token[cut : cut+4], token[len(token)-4:]
}
