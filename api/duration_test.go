package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDurationAcceptsWhatPeopleType(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"5m", 5 * time.Minute},
		{"1h", time.Hour},
		{"1h30m", 90 * time.Minute},
		{"7d", 7 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"0d", 0},
		{"1d12h", 36 * time.Hour},
		{"30d", 720 * time.Hour},
		{"0s", 0},
		{"10ms", 10 * time.Millisecond},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDurationRefusesWithAnExample(t *testing.T) {
	for _, in := range []string{"", "60", "5 minutes", "5min", "d", "1.5d", "-1d", "+1d", "1d-1h", "1h2d", "2day",
		"99999999999999d"} {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), `such as "5m", "1h" or "7d"`) {
			t.Errorf("ParseDuration(%q) error = %v, want one with an example", in, err)
		}
	}
}

func TestDurationJSONNamesItsType(t *testing.T) {
	for _, in := range []string{`60`, `true`, `"5 minutes"`, `"30x"`} {
		var d Duration
		err := json.Unmarshal([]byte(in), &d)
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &typ) || typ.Type != DurationType {
			t.Errorf("Unmarshal(%s) error = %v, want an UnmarshalTypeError of Duration", in, err)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"7d"`), &d); err != nil || d.Std() != 168*time.Hour {
		t.Errorf(`Unmarshal("7d") = %v, %v; want 168h`, d, err)
	}
	if b, _ := json.Marshal(Duration(time.Minute)); string(b) != `"1m0s"` {
		t.Errorf("Marshal(1m) = %s, want \"1m0s\"", b)
	}
}

func TestDurationFlagTakesDays(t *testing.T) {
	var d Duration
	if err := d.Set("7d"); err != nil || d.Std() != 168*time.Hour {
		t.Errorf("Set(7d) = %v, %v", d, err)
	}
	if err := d.Set("30 days"); err == nil || !strings.Contains(err.Error(), `"7d"`) {
		t.Errorf("Set(30 days) error = %v, want an example", err)
	}
}
