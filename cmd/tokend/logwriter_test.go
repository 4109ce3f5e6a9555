package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLogWriterKeepsEveryLineInOrder writes lines from many goroutines
// and checks that after Close each line is there once, whole, and in the
// order its goroutine wrote it; and that a line written after Close goes
// straight through.
func TestLogWriterKeepsEveryLineInOrder(t *testing.T) {
	var out lockedBuffer
	lw := newLogWriter(&out, time.Millisecond, 4<<10)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(lw, "{\"writer\":%d,\"line\":%d,\"pad\":%q}\n", g, i, strings.Repeat("x", i%50))
			}
		})
	}
	wg.Wait()
	lw.Close()
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range got {
		var g, i int
		var pad string
		if _, err := fmt.Sscanf(l, "{\"writer\":%d,\"line\":%d,\"pad\":%q}", &g, &i, &pad); err != nil || len(pad) != i%50 {
			t.Fatalf("torn or foreign line %q (%v)", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	fmt.Fprint(lw, "after close\n")
	if !strings.HasSuffix(out.String(), "}\nafter close\n") {
		t.Error("a line written after Close did not follow the others")
	}
}

// TestLogWriterWritesWithoutClose: a lone line reaches the file soon,
// not only at shutdown.
func TestLogWriterWritesWithoutClose(t *testing.T) {
	var out lockedBuffer
	lw := newLogWriter(&out, time.Millisecond, 1<<20)
	t.Cleanup(lw.Close)
	lw.Write([]byte("one line\n"))
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one line\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s the file holds %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// blockingWriter stalls every write until released, as a stalled pipe.
type blockingWriter struct {
	release chan struct{}
	out     lockedBuffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return b.out.Write(p)
}

// TestLogWriterBoundsWhatWaits: while the file does not take writes,
// writers block once max bytes wait, rather than queueing without end.
func TestLogWriterBoundsWhatWaits(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	lw := newLogWriter(bw, 0, 100)
	line := bytes.Repeat([]byte("x"), 59)
	line = append(line, '\n')
	lw.Write(line) // taken by the writing goroutine, which stalls on it
	for waiting := 1; waiting > 0; {
		lw.mu.Lock()
		waiting = len(lw.pending)
		lw.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	lw.Write(line) // waits: 60 bytes
	lw.Write(line) // waits: 120 bytes, over max
	blocked := make(chan struct{})
	go func() {
		lw.Write(line)
		close(blocked)
	}()
	select {
	case <-blocked:
		t.Fatal("a write went through with more than max bytes waiting")
	case <-time.After(100 * time.Millisecond):
	}
	close(bw.release)
	<-blocked
	lw.Close()
	if n := strings.Count(bw.out.String(), "\n"); n != 4 {
		t.Errorf("%d lines written, want 4", n)
	}
}
