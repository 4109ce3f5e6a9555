package server

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/jsonlog"
)

// slogLine is the access line as slog's own JSON handler writes it: what
// the hand-written line must equal.
func slogLine(level slog.Level, end time.Time, l *accessLine) string {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	rec := slog.NewRecord(end, level, "request", 0)
	rec.AddAttrs(slog.String("request_id", l.id), slog.String("method", l.method), slog.String("path", l.path),
		slog.String("route", l.route), slog.Int("status", l.status), slog.Duration("duration", l.duration),
		slog.String("remote", l.remote))
	h.Handle(context.Background(), rec)
	return buf.String()
}

// accessLogLine is the line Server.accessLog writes through tokend's JSON
// handler, by hand or through slog.
func accessLogLine(level slog.Level, end time.Time, l *accessLine) string {
	var buf bytes.Buffer
	s := &Server{log: slog.New(jsonlog.New(&buf, slog.LevelDebug))}
	s.accessLog(context.Background(), level, end, l)
	return buf.String()
}

// logSamples are strings for the line's fields: ordinary ones, and every
// kind slog escapes (quotes, backslashes, control characters, DEL,
// non-ASCII, invalid UTF-8, U+2028) or that JSON escapes elsewhere (<>&).
var logSamples = []string{
	"", "POST", "GET", "/v1/verify", "POST /v1/verify", "/oauth2/token", "127.0.0.1", "2001:db8::1",
	"0a1b2c3d-2s", "/v1/keys/(redacted)", "/a b?c=d&e=<f>", `q"uote`, `back\slash`, "tab\tnl\ncr\r",
	"\x00\x01\x1f", "del\x7f", "héllo", "\u2028\u2029", "bad\xff\xc3", "/v1/keys/key_06h0mcvlnp2p1ld5e7dck0ovs0",
}

// TestAccessLineMatchesSlog: for lines of every shape, Server.accessLog
// through tokend's JSON handler writes exactly what slog writes, whether
// it takes the hand-written path (checked to be taken for plain lines) or
// falls back to slog.
func TestAccessLineMatchesSlog(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	str := func() string {
		if rng.IntN(3) > 0 {
			return logSamples[rng.IntN(len(logSamples))]
		}
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if rng.IntN(8) > 0 {
				b[i] = byte(0x20 + rng.IntN(0x5f))
			}
		}
		return string(b)
	}
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+30*60), time.FixedZone("X", -8*3600)}
	levels := []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	plain := 0
	for n := range 20000 {
		l := &accessLine{id: str(), method: str(), path: str(), route: str(), remote: str(),
			status: rng.IntN(1000) - 100, duration: time.Duration(rng.Int64() >> rng.IntN(64))}
		if n%2 == 0 {
			l.id, l.method, l.route, l.remote = "0a1b2c3d-9z", "POST", "POST /v1/verify", "127.0.0.1"
		}
		if rng.IntN(4) == 0 {
			l.duration = -l.duration
		}
		end := time.Now()
		switch rng.IntN(6) {
		case 0:
			end = time.Unix(rng.Int64N(1<<40)-1<<39, rng.Int64N(1e9)) // years before 0 and after 9999 too
		case 1:
			end = time.Time{}
		case 2:
			end = time.Unix(rng.Int64N(1<<33), rng.Int64N(1e9)).Round(time.Duration(rng.IntN(4)) * time.Millisecond)
		}
		end = end.In(zones[rng.IntN(len(zones))])
		level := levels[rng.IntN(len(levels))]
		want := slogLine(level, end, l)
		if got := accessLogLine(level, end, l); got != want {
			t.Fatalf("accessLog(%+v, %v) =\n%s\nwant\n%s", l, end, got, want)
		}
		if l.plain() && !end.IsZero() && end.Year() >= 0 && end.Year() <= 9999 {
			plain++
			if got := string(l.appendJSON(nil, level, end)); got != want {
				t.Fatalf("appendJSON(%+v, %v) =\n%s\nwant\n%s", l, end, got, want)
			}
		}
	}
	if plain < 2000 {
		t.Errorf("only %d lines took the hand-written path", plain)
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("0a1b2c3d-1", "POST", "/v1/verify", "POST /v1/verify", "127.0.0.1", 200, int64(12345), int64(1764500000), int64(123456789), 0)
	f.Add("x", "GET", "/a\"b\\c", "", "::1", 499, int64(-1), int64(-62135596801), int64(0), 3600)
	f.Fuzz(func(t *testing.T, id, method, path, route, remote string, status int, dur, sec, nsec int64, offset int) {
		l := &accessLine{id: id, method: method, path: path, route: route, remote: remote, status: status, duration: time.Duration(dur)}
		end := time.Unix(sec, nsec).In(time.FixedZone("", offset%(24*3600)))
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			if got, want := accessLogLine(level, end, l), slogLine(level, end, l); got != want {
				t.Fatalf("accessLog(%+v, %v) =\n%s\nwant\n%s", l, end, got, want)
			}
		}
	})
}

// TestAccessLogBelowLevelWritesNothing: a line below the handler's level
// is dropped on both paths.
func TestAccessLogBelowLevelWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{log: slog.New(jsonlog.New(&buf, slog.LevelWarn))}
	s.accessLog(context.Background(), slog.LevelInfo, time.Now(), &accessLine{method: "GET", path: "/healthz"})
	s.accessLog(context.Background(), slog.LevelInfo, time.Now(), &accessLine{method: "GET", path: "/h\x00"})
	if buf.Len() != 0 {
		t.Errorf("logged below the level: %s", buf.String())
	}
	s.accessLog(context.Background(), slog.LevelWarn, time.Now(), &accessLine{method: "GET", path: "/healthz"})
	if !strings.Contains(buf.String(), `"level":"WARN"`) {
		t.Errorf("no warning logged: %q", buf.String())
	}
}
