package main

import (
	"io"
	"os"
	"sync"
	"time"
)

// logLinger is how long the log writer waits, once a line has come, for
// more lines to write with it.
const logLinger = time.Millisecond

// maxPendingLog bounds the bytes waiting to be written; writers block
// beyond it, as they would on a stalled write.
const maxPendingLog = 1 << 20

// bufferLog returns the writer "tokend serve" logs to, and a function
// that writes what is pending and must run before the process exits.
// Standard error, when it is a file (a pipe to journald or a container
// runtime, a file, a terminal), is written by a logWriter; any other
// writer (an in-process test's buffer) directly.
func bufferLog(w io.Writer) (io.Writer, func()) {
	f, ok := w.(*os.File)
	if !ok {
		return w, func() {}
	}
	lw := newLogWriter(f, logLinger, maxPendingLog)
	return lw, lw.Close
}

// logWriter hands log lines to one goroutine, which writes them in the
// order they came, each batch at most linger after its first line, in one
// write call: a write system call per line (per request, with the access
// log) was a large share of tokend's CPU time and woke the reader of the
// pipe as often. The lines, their content and their order are unchanged;
// on a crash the lines of the last linger may be lost.
type logWriter struct {
	w        io.Writer
	linger   time.Duration
	max      int
	mu       sync.Mutex
	notEmpty sync.Cond // the writing goroutine waits for lines
	notFull  sync.Cond // writers wait for room
	pending  []byte
	closed   bool
	done     chan struct{}
}

func newLogWriter(w io.Writer, linger time.Duration, max int) *logWriter {
	lw := &logWriter{w: w, linger: linger, max: max, done: make(chan struct{})}
	lw.notEmpty.L, lw.notFull.L = &lw.mu, &lw.mu
	go lw.run()
	return lw
}

// Write queues p, a log line: slog handlers write one line per call.
// After Close it writes p directly.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	for len(lw.pending) >= lw.max && !lw.closed {
		lw.notFull.Wait()
	}
	if lw.closed {
		lw.mu.Unlock()
		<-lw.done // after every queued line
		return lw.w.Write(p)
	}
	lw.pending = append(lw.pending, p...)
	lw.notEmpty.Signal()
	lw.mu.Unlock()
	return len(p), nil
}

func (lw *logWriter) run() {
	defer close(lw.done)
	var batch []byte
	for {
		lw.mu.Lock()
		for len(lw.pending) == 0 && !lw.closed {
			lw.notEmpty.Wait()
		}
		if len(lw.pending) == 0 { // closed, and everything written
			lw.mu.Unlock()
			return
		}
		if !lw.closed {
			lw.mu.Unlock()
			time.Sleep(lw.linger)
			lw.mu.Lock()
		}
		batch, lw.pending = lw.pending, batch[:0]
		lw.notFull.Broadcast()
		lw.mu.Unlock()
		lw.w.Write(batch) // as when slog writes itself, a failed log write is not reported
	}
}

// Close writes every queued line and returns; later lines are written
// directly.
func (lw *logWriter) Close() {
	lw.mu.Lock()
	lw.closed = true
	lw.notEmpty.Signal()
	lw.notFull.Broadcast()
	lw.mu.Unlock()
	<-lw.done
}

// isTerminal reports whether w, or the file a logWriter writes to, is a
// terminal.
func isTerminal(w io.Writer) bool {
	if lw, ok := w.(*logWriter); ok {
		w = lw.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
