package audit

import (
	"testing"
	"time"
)

func TestSame(t *testing.T) {
	type rec struct {
		Name   string
		Groups []string
		Scopes map[string][]string
		Blob   []byte
		At     time.Time
		Ptr    *int
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	one, two := 1, 2
	base := rec{Name: "a", Groups: []string{"x"}, Scopes: map[string][]string{"api": {"r"}}, Blob: []byte("{}"), At: at, Ptr: &one}
	tests := []struct {
		name string
		mod  func(*rec)
		want bool
	}{
		{"copy", func(*rec) {}, true},
		{"emptied slice", func(r *rec) { r.Groups = []string{} }, false},
		{"same instant elsewhere", func(r *rec) { r.At = at.In(time.FixedZone("x", 3600)) }, true},
		{"equal pointee", func(r *rec) { v := 1; r.Ptr = &v }, true},
		{"other pointee", func(r *rec) { r.Ptr = &two }, false},
		{"nil pointer", func(r *rec) { r.Ptr = nil }, false},
		{"other string", func(r *rec) { r.Name = "b" }, false},
		{"other slice", func(r *rec) { r.Groups = []string{"y"} }, false},
		{"longer slice", func(r *rec) { r.Groups = append(r.Groups, "y") }, false},
		{"other map value", func(r *rec) { r.Scopes = map[string][]string{"api": {"w"}} }, false},
		{"other map key", func(r *rec) { r.Scopes = map[string][]string{"api2": {"r"}} }, false},
		{"other bytes", func(r *rec) { r.Blob = []byte("[]") }, false},
		{"later time", func(r *rec) { r.At = at.Add(time.Microsecond) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := base
			after.Groups = append([]string(nil), base.Groups...)
			tt.mod(&after)
			if got := Same(base, after); got != tt.want {
				t.Errorf("Same(%+v, %+v) = %v, want %v", base, after, got, tt.want)
			}
		})
	}
	empty := []rec{{}, {Groups: []string{}, Scopes: map[string][]string{}, Blob: []byte{}}}
	if !Same(empty[0], empty[1]) {
		t.Errorf("Same(%+v, %+v) = false, want true: nil and empty are the same", empty[0], empty[1])
	}
}
