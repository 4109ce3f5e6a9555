package ids

import (
	"strings"
	"testing"
	"time"
)

func TestNewSortsByTime(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	a, b := New("key", t0), New("key", t0.Add(time.Millisecond))
	if !(a < b) {
		t.Errorf("New(t0) = %q, New(t0+1ms) = %q, want increasing", a, b)
	}
	if len(a) != len("key_")+26 || a[:4] != "key_" {
		t.Errorf("New = %q, want key_ and 26 characters", a)
	}
	if !Valid("key", a) || Valid("api", a) || Valid("key", a+"x") || Valid("key", "key_"+a[4:29]+"!") || Valid("key", strings.ToUpper(a)) {
		t.Errorf("Valid misjudges %q", a)
	}
	if New("key", t0) == New("key", t0) {
		t.Error("New returned the same id twice")
	}
}
