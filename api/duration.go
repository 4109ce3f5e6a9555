package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that travels as a duration string: Go's
// units ("90s", "5m", "1h30m") plus whole days ("7d", "1d12h"), since
// people type days. Answers use Go's canonical spelling ("168h0m0s").
type Duration time.Duration

// DurationExample is the hint every duration error carries: spellings that
// work.
const DurationExample = `a duration string such as "5m", "1h" or "7d"`

// ParseDuration parses a duration string: an optional count of whole days
// ("7d") followed by an optional Go duration ("12h", "90s"). "1d12h" is 36
// hours. A bare number is refused, because it leaves the unit to guesswork.
func ParseDuration(s string) (time.Duration, error) {
	days, rest, err := cutDays(s)
	if err != nil {
		return 0, err
	}
	var d time.Duration
	if rest != "" || days < 0 {
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("%q is not %s", s, DurationExample)
		}
	}
	if days >= 0 {
		neg := strings.HasPrefix(rest, "-")
		if neg || days > (math.MaxInt64-int64(d))/int64(24*time.Hour) {
			return 0, fmt.Errorf("%q is not %s", s, DurationExample)
		}
		d += time.Duration(days) * 24 * time.Hour
	}
	return d, nil
}

// cutDays splits "7d12h" into 7 and "12h". A string with no day part comes
// back whole, with -1 days.
func cutDays(s string) (days int64, rest string, err error) {
	i := strings.IndexByte(s, 'd')
	if i <= 0 {
		return -1, s, nil
	}
	n, perr := strconv.ParseInt(s[:i], 10, 64)
	if perr != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, "", fmt.Errorf("%q is not %s", s, DurationExample)
	}
	return n, s[i+1:], nil
}

// MarshalJSON encodes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON decodes a duration string. A number, or a string that is
// not a duration, is an *json.UnmarshalTypeError whose Type is Duration,
// so that the server can say what it expects.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "non-string", Type: DurationType}
	}
	v, err := ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string", Type: DurationType}
	}
	*d = Duration(v)
	return nil
}

// DurationType is the reflect type of Duration, for decoders that name
// what they expected.
var DurationType = reflect.TypeFor[Duration]()

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in Go's canonical spelling.
func (d Duration) String() string { return time.Duration(d).String() }

// Set parses s, so that a *Duration is a flag.Value: command-line flags
// take the same spellings as the API, days included.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return errors.New("want " + DurationExample)
	}
	*d = Duration(v)
	return nil
}
