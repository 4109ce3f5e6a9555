package user

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters of a password hash. Every hash
// records its own, so that they can be raised later: a sign-in with a
// hash made with weaker parameters rehashes the password.
type Params struct {
	// Time is the number of passes over the memory.
	Time uint32
	// Memory is the memory used, in KiB.
	Memory uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultParams are the first of OWASP's recommended argon2id settings
// (Password Storage Cheat Sheet): 46 MiB, one pass, one lane; about 65 ms
// a hash on one core of a loaded 2-core machine (BenchmarkSignIn). With
// the hashing limit of one hash per CPU, hashing holds at most 46 MiB per
// CPU. RFC 9106's 64 MiB, three passes and four lanes took five times as
// long there.
var DefaultParams = Params{Time: 1, Memory: 46 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// maxMemory bounds the memory a stored hash may ask for (1 GiB), so
	// that a corrupt row cannot exhaust memory.
	maxMemory = 1 << 20
)

// weaker reports whether a hash made with p is weaker than one made with
// q in any parameter.
func (p Params) weaker(q Params) bool {
	return p.Time < q.Time || p.Memory < q.Memory || p.Threads < q.Threads
}

var b64 = base64.RawStdEncoding

// encodeHash writes the PHC string format used by the argon2 reference
// implementation: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>.
func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("user: malformed password hash")

// decodeHash reads what encodeHash wrote.
func decodeHash(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return Params{}, nil, nil, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, errBadHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 ||
		p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory {
		return Params{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// A hasher computes argon2id hashes under a concurrency limit, so that a
// flood of sign-ins queues rather than exhausting memory: at most
// cap(slots) hashes run at once, each holding Params.Memory.
type hasher struct {
	params Params
	slots  chan struct{}
	// dummy is a hash of a random password with params, checked when
	// the user is unknown or has no password, so that such a sign-in
	// costs what a real one costs.
	dummy string
	// checks counts the passwords checked, for the tests that show a
	// refusal did the work of a wrong password.
	checks atomic.Int64
}

// newHasher returns a hasher with params and as many slots as the Go
// scheduler has CPUs (GOMAXPROCS), or slots if it is positive.
func newHasher(params Params, slots int) *hasher {
	if slots < 1 {
		slots = runtime.GOMAXPROCS(0)
	}
	h := &hasher{params: params, slots: make(chan struct{}, slots)}
	h.dummy = encodeHash(params, randomBytes(saltLen), randomBytes(keyLen))
	return h
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return b
}

// acquire waits for a slot or for ctx to end.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// hash returns the encoded hash of password with the hasher's params.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := randomBytes(saltLen)
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	return encodeHash(h.params, salt, key), nil
}

// check reports whether password matches encoded, comparing in constant
// time, and whether encoded was made with weaker parameters than the
// hasher's (so the password should be rehashed). An empty encoded (no
// password) is checked against the dummy hash and never matches.
func (h *hasher) check(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	target := encoded
	if target == "" {
		target = h.dummy
	}
	p, salt, want, err := decodeHash(target)
	if err != nil {
		return false, false, err
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	h.checks.Add(1)
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1 && encoded != ""
	return ok, ok && p.weaker(h.params), nil
}
