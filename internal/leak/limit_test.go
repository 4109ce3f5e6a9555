package leak

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiterPerAddress: an address gets limit reports per window, then
// waits for the window's end; another address is unaffected; the
// addresses of one IPv6 /64 share a count.
func TestLimiterPerAddress(t *testing.T) {
	l := newLimiter(3, time.Minute, 100)
	now := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if w := l.take("2001:db8:1:2::1", now); w != 0 {
			t.Fatalf("report %d refused", i+1)
		}
	}
	if w := l.take("2001:db8:1:2:ffff::9", now.Add(10*time.Second)); w != 50*time.Second {
		t.Errorf("4th report from the same /64: wait %s, want 50s", w)
	}
	if w := l.take("2001:db8:1:3::1", now); w != 0 {
		t.Error("another /64 was refused")
	}
	if w := l.take("192.0.2.1", now); w != 0 {
		t.Error("an IPv4 address was refused")
	}
	if w := l.take("2001:db8:1:2::1", now.Add(time.Minute)); w != 0 {
		t.Error("the next window was refused")
	}
}

// TestLimiterBounded: a flood from more addresses than the limiter holds
// keeps its size at the bound, and a new address is still counted.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter(1, time.Minute, 100)
	now := time.Unix(1_700_000_000, 0)
	for i := range 10_000 {
		l.take(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	if n := l.len(); n > 100 {
		t.Errorf("limiter holds %d addresses, want at most 100", n)
	}
	l.take("192.0.2.7", now)
	if w := l.take("192.0.2.7", now); w == 0 {
		t.Error("a full limiter let a second report of a new address through")
	}
}
