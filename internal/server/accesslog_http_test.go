package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
)

// TestAccessLinesOverHTTPAreSlogs sends requests of several shapes to a
// real server logging through tokend's JSON handler (plain paths, whose
// line is written by hand; a path with non-ASCII and a control character,
// which goes through slog; a credential in the path, redacted), then
// renders each access line's fields again with slog's own JSON handler:
// the bytes must be the same, and no secret may be in the log.
func TestAccessLinesOverHTTPAreSlogs(t *testing.T) {
	f := newFixture(t)
	k := f.key(t, api.CreateKeyRequest{})
	f.verify(t, api.VerifyRequest{Token: k.Secret})
	f.raw(t, "GET", "/v1/keys/"+k.Secret, "", "", "")
	f.raw(t, "GET", "/v1/h%C3%A9llo%01", "", "", "")
	f.raw(t, "GET", "/v1/nothing-here", "", "", "none")

	var paths []string
	for line := range strings.Lines(f.Logs.String()) {
		if !strings.Contains(line, `"msg":"request"`) {
			continue
		}
		var l struct {
			Time      time.Time     `json:"time"`
			Level     slog.Level    `json:"level"`
			Msg       string        `json:"msg"`
			RequestID string        `json:"request_id"`
			Method    string        `json:"method"`
			Path      string        `json:"path"`
			Route     string        `json:"route"`
			Status    int           `json:"status"`
			Duration  time.Duration `json:"duration"`
			Remote    string        `json:"remote"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		var want bytes.Buffer
		rec := slog.NewRecord(l.Time, l.Level, l.Msg, 0)
		rec.AddAttrs(slog.String("request_id", l.RequestID), slog.String("method", l.Method), slog.String("path", l.Path),
			slog.String("route", l.Route), slog.Int("status", l.Status), slog.Duration("duration", l.Duration),
			slog.String("remote", l.Remote))
		slog.NewJSONHandler(&want, nil).Handle(context.Background(), rec)
		if line != want.String() {
			t.Errorf("access line\n%s\nslog writes\n%s", line, want.String())
		}
		paths = append(paths, l.Path)
	}
	for _, p := range []string{"/v1/verify", "/v1/keys/" + k.Secret[:strings.IndexByte(k.Secret, '_')+1] + "(redacted)",
		"/v1/héllo\x01", "/v1/nothing-here"} {
		if !strings.Contains(strings.Join(paths, "\n"), p) {
			t.Errorf("no access line for %q in %q", p, paths)
		}
	}
	if strings.Contains(f.Logs.String(), k.Secret[len(k.Secret)-49:]) {
		t.Error("the log holds the key's secret")
	}
}
