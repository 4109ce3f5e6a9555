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

// TestValidOnlyWhatNewMakes: the last character carries 2 bits New
// leaves 0; an id with them set decodes, but New never made it.
func TestValidOnlyWhatNewMakes(t *testing.T) {
	for i := range 1000 {
		if id := New("key", time.UnixMilli(int64(i)*7919)); !Valid("key", id) {
			t.Fatalf("Valid(%q) = false for an id of New", id)
		}
	}
	id := New("key", time.Now())
	for _, last := range "1235679abdefhijlmnpqrtuv" {
		if bad := id[:len(id)-1] + string(last); Valid("key", bad) {
			t.Errorf("Valid(%q) = true; New never ends an id with %q", bad, last)
		}
	}
	for _, last := range "048cgkos" {
		if ok := id[:len(id)-1] + string(last); !Valid("key", ok) {
			t.Errorf("Valid(%q) = false", ok)
		}
	}
}

func TestValidRefusesLineBreaks(t *testing.T) {
	a := New("key", time.Now())
	for _, bad := range []string{
		"key_" + a[4:28] + "\r\n",
		"key_" + a[4:16] + "\r\n" + a[16:28],
		"key_\n" + a[4:29],
		"key_" + a[4:29] + "\n",
	} {
		if Valid("key", bad) {
			t.Errorf("Valid(%q) = true, want false", bad)
		}
	}
	if !Valid("key", a) {
		t.Errorf("Valid(%q) = false", a)
	}
}
