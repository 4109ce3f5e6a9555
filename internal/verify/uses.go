package verify

import (
	"sync"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// uses counts the verifications of personal access tokens per key,
// minute, client address and result code between flushes: the recent
// uses their owners see. Only personal access tokens are counted, found
// ones (their id is known), whatever the answer; API keys keep only the
// last-used time and count of usage.
type uses struct {
	mu sync.Mutex
	m  map[useKey]int64
}

type useKey struct {
	keyID  string
	minute int64 // unix seconds, truncated to the minute
	ip     string
	code   api.Code
}

func newUses() *uses { return &uses{m: make(map[useKey]int64)} }

func (u *uses) record(keyID string, at time.Time, ip string, code api.Code) {
	k := useKey{keyID: keyID, minute: at.Unix() - at.Unix()%60, ip: ip, code: code}
	u.mu.Lock()
	u.m[k]++
	u.mu.Unlock()
}

func (u *uses) take() []store.KeyUse {
	u.mu.Lock()
	m := u.m
	if len(m) == 0 {
		u.mu.Unlock()
		return nil
	}
	u.m = make(map[useKey]int64, len(m))
	u.mu.Unlock()
	out := make([]store.KeyUse, 0, len(m))
	for k, n := range m {
		out = append(out, store.KeyUse{KeyID: k.keyID, Minute: time.Unix(k.minute, 0).UTC(), IP: k.ip, Code: string(k.code), Count: n})
	}
	return out
}

// restore merges a batch that could not be written back into the next.
func (u *uses) restore(batch []store.KeyUse) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, b := range batch {
		u.m[useKey{keyID: b.KeyID, minute: b.Minute.Unix(), ip: b.IP, code: api.Code(b.Code)}] += b.Count
	}
}
