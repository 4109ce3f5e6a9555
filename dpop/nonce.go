package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"
)

// Nonces issues and checks server nonces (RFC 9449 §8, §9) without
// state: a nonce is an epoch number and a MAC of it under a key derived
// from the secret for that epoch, so the key rotates every period and a
// nonce is good for one to two periods. Nodes given the same secret
// accept each other's nonces. A client cannot make a proof in advance,
// since it cannot know a future epoch's nonce. Safe for concurrent use.
type Nonces struct {
	secret []byte
	period time.Duration
	now    func() time.Time

	mu    sync.Mutex
	epoch int64
	cur   string
}

// DefaultNoncePeriod is the nonce rotation period when NewNonces is
// given 0.
const DefaultNoncePeriod = 5 * time.Minute

// NewNonces returns Nonces keyed by secret (at least 32 random bytes,
// the same on every node), rotating every period (0: 5 minutes) on the
// clock now (nil: time.Now).
func NewNonces(secret []byte, period time.Duration, now func() time.Time) *Nonces {
	if period <= 0 {
		period = DefaultNoncePeriod
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{secret: secret, period: period, now: now, epoch: -1}
}

func (n *Nonces) epochAt(t time.Time) int64 { return t.UnixNano() / int64(n.period) }

// Current returns the nonce of the current epoch.
func (n *Nonces) Current() string {
	e := n.epochAt(n.now())
	n.mu.Lock()
	defer n.mu.Unlock()
	if e != n.epoch {
		n.epoch, n.cur = e, n.make(e)
	}
	return n.cur
}

func (n *Nonces) make(epoch int64) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(epoch))
	m := hmac.New(sha256.New, n.secret)
	m.Write([]byte("tokend dpop nonce\x00"))
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Valid reports whether nonce was issued for the current epoch, the
// previous one, or the next one (a node whose clock runs a little
// ahead).
func (n *Nonces) Valid(nonce string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false
	}
	e := int64(binary.BigEndian.Uint64(b[:8]))
	if d := e - n.epochAt(n.now()); d < -1 || d > 1 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(n.make(e)), []byte(nonce)) == 1
}
