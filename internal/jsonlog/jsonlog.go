// Package jsonlog is slog's JSON handler with one addition for hot paths:
// a caller that logs the same line on every request (the access log) may
// append that line by hand, to exactly the bytes the handler would write
// for it, and write it through the handler's writer, in order with the
// handler's own lines. The hand-written line is the caller's to get right
// (package server tests its access line against slog's output); this
// package only guarantees that the handler has no option that would make
// its lines differ from slog's defaults (no ReplaceAttr, no source).
package jsonlog

import (
	"io"
	"log/slog"
	"sync"
)

// Handler is a slog.JSONHandler that also writes whole lines written by
// its caller. Handlers derived from it (WithAttrs, WithGroup) are plain
// slog.JSONHandlers on the same writer: their lines hold attributes a
// hand-written line would not.
type Handler struct {
	*slog.JSONHandler
	out *lockedWriter
}

// New returns a handler that writes JSON lines to w for records at level
// and above, as slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
// does.
func New(w io.Writer, level slog.Leveler) *Handler {
	out := &lockedWriter{w: w}
	return &Handler{JSONHandler: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}), out: out}
}

// WriteLine writes line, one JSON object and its '\n' as the handler
// would have written it, in one call to the writer. Check Enabled first,
// as slog does before building a record.
func (h *Handler) WriteLine(line []byte) error {
	_, err := h.out.Write(line)
	return err
}

// lockedWriter serializes the writes of the handler, of its derived
// handlers and of WriteLine, so that lines never interleave on a writer
// that is not safe for concurrent use (slog's handlers lock only among
// themselves).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
