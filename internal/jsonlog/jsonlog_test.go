package jsonlog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/jsonlog"
)

// TestLinesAreSlogs: the handler writes what slog.NewJSONHandler with the
// same level writes, derived handlers included, and drops what is below
// the level.
func TestLinesAreSlogs(t *testing.T) {
	var got, want bytes.Buffer
	mine := slog.New(jsonlog.New(&got, slog.LevelInfo))
	std := slog.New(slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelInfo}))
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456789, time.UTC)
	for _, l := range []*slog.Logger{mine, std} {
		h := l.Handler()
		r := slog.NewRecord(at, slog.LevelWarn, "hello <&> \"x\"", 0)
		r.AddAttrs(slog.String("path", "/v1/\u2028\xff"), slog.Int("status", 200), slog.Duration("d", time.Second))
		h.Handle(t.Context(), r)
		h.WithAttrs([]slog.Attr{slog.String("a", "b")}).WithGroup("g").Handle(t.Context(), r)
		l.Debug("dropped")
	}
	if got.String() != want.String() || got.Len() == 0 {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
}

// TestWriteLineKeepsLinesWhole writes from many goroutines, by hand and
// through the handler and a derived one, to a writer that is not safe
// for concurrent use: every line must come out whole.
func TestWriteLineKeepsLinesWhole(t *testing.T) {
	var buf bytes.Buffer
	h := jsonlog.New(&buf, slog.LevelInfo)
	log, derived := slog.New(h), slog.New(h).With("x", 1)
	const n = 200
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range n {
				switch (g + i) % 3 {
				case 0:
					h.WriteLine([]byte(`{"msg":"by hand","long":"` + strings.Repeat("x", 300) + `"}` + "\n"))
				case 1:
					log.Info("handler", "i", i)
				default:
					derived.Info("derived", "i", i)
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*n {
		t.Fatalf("%d lines, want %d", len(lines), 8*n)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("a broken line: %.80s", l)
		}
	}
}
