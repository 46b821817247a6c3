package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// waitTimeout bounds every wait in the tail tests: generous, because the
// tests share two cores with other work; a passing test never waits for it.
const waitTimeout = 60 * time.Second

// seqLine returns line number seq (1-based) of the test logs: the number, a
// space and padding whose length varies with seq, so lines straddle buffer
// boundaries in every possible way.
func seqLine(seq int) string {
	pad := 40 + (seq*37)%400
	return fmt.Sprintf("%09d %s", seq, strings.Repeat(string(rune('a'+seq%26)), pad))
}

// logWriter appends numbered lines to a log file the way Nginx does: the file
// is opened with O_APPEND and each line is one write.
type logWriter struct {
	t    *testing.T
	mu   sync.Mutex // guards the fields below; held across a rotation to pause writing
	f    *os.File
	next int // number of the next line
}

// newLogWriter creates (or appends to) path.
func newLogWriter(t *testing.T, path string) *logWriter {
	w := &logWriter{t: t, next: 1}
	w.f = openAppend(t, path)
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.f.Close()
	})
	return w
}

func openAppend(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// write appends n lines.
func (w *logWriter) write(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		w.writeLocked()
	}
}

func (w *logWriter) writeLocked() {
	if _, err := w.f.WriteString(seqLine(w.next) + "\n"); err != nil {
		w.t.Errorf("write line %d: %v", w.next, err)
	}
	w.next++
}

// written returns the number of lines written.
func (w *logWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next - 1
}

// reopen switches to a new file at path, like Nginx on USR1.
func (w *logWriter) reopen(path string) {
	f := openAppend(w.t, path)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	w.f = f
}

// run appends lines in bursts of 16 (roughly 10,000 lines/s) until the
// returned function is called; it stops the writer and returns the number of
// lines written.
func (w *logWriter) run() (stop func() int) {
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			w.write(16)
			time.Sleep(time.Millisecond)
		}
	}()
	var once sync.Once
	return func() int {
		once.Do(func() { close(quit) })
		<-done
		return w.written()
	}
}

// received collects what a Tail hands out.
type received struct {
	mu      sync.Mutex // guards the fields below
	seqs    []int
	skipped int
	chunks  int
	last    Position
	bad     []string // lines that are not well-formed test lines
}

func (r *received) add(c *Chunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks++
	r.skipped += c.Skipped
	r.last = c.Pos
	data := c.Data
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			r.bad = append(r.bad, "unterminated: "+string(data))
			break
		}
		line := string(data[:i])
		data = data[i+1:]
		seq, err := strconv.Atoi(line[:min(9, len(line))])
		if err != nil || line != seqLine(seq) {
			r.bad = append(r.bad, line[:min(80, len(line))])
			continue
		}
		r.seqs = append(r.seqs, seq)
	}
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seqs)
}

func (r *received) snapshot() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.seqs...)
}

// tailRun is one running Tail with a consumer that commits every chunk.
type tailRun struct {
	tail *Tail
	reg  *prometheus.Registry
	got  *received
	hold sync.Mutex // held by a test to stall the consumer
	// commitOff stops the consumer from committing; committedLines is the
	// Lines of the last position it committed.
	commitOff      atomic.Bool
	committedLines atomic.Uint64
	stopOnce       sync.Once
	cancel         context.CancelFunc
	errc           chan error
	done           chan struct{} // closed when the consumer saw out closed
}

// startTail starts a Tail on path with state in stateDir and a committing
// consumer. commit == false makes the consumer never commit.
func startTail(t *testing.T, cfg TailConfig, o TailOptions, commit bool) *tailRun {
	t.Helper()
	reg := prometheus.NewRegistry()
	o.Registerer = reg
	tl, err := NewTail(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &tailRun{tail: tl, reg: reg, got: &received{}, cancel: cancel, errc: make(chan error, 1), done: make(chan struct{})}
	out := make(chan *Chunk, 2)
	go func() { r.errc <- tl.Run(ctx, out) }()
	go func() {
		defer close(r.done)
		for c := range out {
			r.hold.Lock()
			r.hold.Unlock() //nolint:staticcheck // an empty critical section: wait while a test holds it
			r.got.add(c)
			pos := c.Pos
			c.Release()
			if commit && !r.commitOff.Load() {
				tl.Commit(pos)
				r.committedLines.Store(pos.Lines)
			}
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// pause stalls the consumer, as a slow engine would; the returned function
// resumes it.
func (r *tailRun) pause() (resume func()) {
	r.hold.Lock()
	return r.hold.Unlock
}

// stop cancels the Tail, waits for it and its consumer, and fails on a Run
// error. It may be called more than once.
func (r *tailRun) stop(t *testing.T) {
	t.Helper()
	r.stopOnce.Do(func() {
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(waitTimeout):
			t.Fatal("tail did not stop")
		}
		if err := <-r.errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitLines waits until r has received n lines.
func (r *tailRun) waitLines(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d lines (have %d)", n, r.got.count()), func() bool { return r.got.count() >= n })
}

// checkSeqs fails unless got is exactly from..to in order.
func checkSeqs(t *testing.T, got []int, from, to int) {
	t.Helper()
	want := to - from + 1
	if len(got) != want {
		t.Errorf("got %d lines, want %d (%d..%d)", len(got), want, from, to)
	}
	dups, gaps := 0, 0
	seen := make(map[int]int, len(got))
	for _, s := range got {
		seen[s]++
		if seen[s] == 2 {
			dups++
		}
	}
	for s := from; s <= to; s++ {
		if seen[s] == 0 {
			gaps++
		}
	}
	if dups > 0 || gaps > 0 {
		t.Fatalf("%d duplicated and %d missing lines", dups, gaps)
	}
	for i, s := range got {
		if s != from+i {
			t.Fatalf("line %d is %d, want %d: out of order", i, s, from+i)
		}
	}
}

// checkClean fails if any malformed line was received.
func (r *tailRun) checkClean(t *testing.T) {
	t.Helper()
	r.got.mu.Lock()
	defer r.got.mu.Unlock()
	if len(r.got.bad) > 0 {
		t.Fatalf("%d malformed lines, first: %q", len(r.got.bad), r.got.bad[0])
	}
}

// testTailConfig returns a config for path with a short grace and frequent
// checkpoints.
func testTailConfig(path string) TailConfig {
	cfg := DefaultTailConfig()
	cfg.Path = path
	cfg.StartAt = StartAtBeginning
	cfg.RotateGrace = time.Second
	cfg.CheckpointInterval = 50 * time.Millisecond
	return cfg
}

// leakCheck fails the test if goroutines started by it are still running at
// its end. Register it first so it runs after the other cleanups.
func leakCheck(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashHelperEnv); dir != "" {
		crashHelper(dir)
		return
	}
	goleak.VerifyTestMain(m)
}
