package source

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lineBytes returns the size in the log of lines from..to.
func lineBytes(from, to int) int64 {
	var n int64
	for s := from; s <= to; s++ {
		n += int64(len(seqLine(s)) + 1)
	}
	return n
}

// TestTailRestartRules stops a Tail after 500 lines, changes the log while it
// is stopped, and checks where the next run resumes.
func TestTailRestartRules(t *testing.T) {
	type env struct {
		t     *testing.T
		w     *logWriter
		path  string
		state string
	}
	rename := func(e env, from, to string) {
		if err := os.Rename(from, to); err != nil {
			e.t.Fatal(err)
		}
	}
	truncate := func(e env) {
		e.w.mu.Lock()
		defer e.w.mu.Unlock()
		if err := os.Truncate(e.path, 0); err != nil {
			e.t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		between   func(e env)
		from, to  int     // lines the second run must hand out, exactly
		lost      int64   // vigil_source_lost_bytes_total
		rotations float64 // vigil_source_rotations_total{kind} at least
		kind      string
	}{
		{
			name:    "same file grew",
			between: func(e env) { e.w.write(200) },
			from:    501, to: 700,
		},
		{
			name: "rotated to .1",
			between: func(e env) {
				rename(e, e.path, e.path+".1")
				e.w.write(100) // Nginx still writes to the old file
				e.w.reopen(e.path)
				e.w.write(100)
			},
			from: 501, to: 700, rotations: 1, kind: "rename",
		},
		{
			name: "rotated with dateext",
			between: func(e env) {
				rename(e, e.path, e.path+"-20261122")
				e.w.write(100)
				e.w.reopen(e.path)
				e.w.write(100)
			},
			from: 501, to: 700, rotations: 1, kind: "rename",
		},
		{
			name: "rotated twice",
			between: func(e env) {
				rename(e, e.path, e.path+".1")
				e.w.write(50)
				e.w.reopen(e.path)
				time.Sleep(20 * time.Millisecond) // distinct modification times
				e.w.write(50)
				rename(e, e.path+".1", e.path+".2")
				rename(e, e.path, e.path+".1")
				e.w.reopen(e.path)
				e.w.write(50)
			},
			from: 501, to: 650, rotations: 2, kind: "rename",
		},
		{
			name: "rotated and compressed",
			between: func(e env) {
				rename(e, e.path, e.path+".1")
				e.w.write(100)
				e.w.reopen(e.path)
				e.w.write(100)
				gzipFile(e.t, e.path+".1")
			},
			from: 601, to: 700, lost: lineBytes(501, 600), rotations: 1, kind: "rename",
		},
		{
			name: "rotated and deleted",
			between: func(e env) {
				rename(e, e.path, e.path+".1")
				e.w.write(100)
				e.w.reopen(e.path)
				e.w.write(100)
				if err := os.Remove(e.path + ".1"); err != nil {
					e.t.Fatal(err)
				}
			},
			from: 601, to: 700, rotations: 1, kind: "rename",
		},
		{
			name: "truncated, smaller than the offset",
			between: func(e env) {
				truncate(e)
				e.w.write(100)
			},
			from: 501, to: 600, rotations: 1, kind: "truncate",
		},
		{
			name: "truncated, grown past the offset",
			between: func(e env) {
				truncate(e)
				e.w.write(700)
			},
			from: 501, to: 1200, rotations: 1, kind: "truncate",
		},
		{
			name: "copytruncate",
			between: func(e env) {
				e.w.write(100)
				data, err := os.ReadFile(e.path)
				if err != nil {
					e.t.Fatal(err)
				}
				if err := os.WriteFile(e.path+".1", data, 0o644); err != nil {
					e.t.Fatal(err)
				}
				truncate(e)
				e.w.write(100)
			},
			from: 501, to: 700, rotations: 1, kind: "truncate",
		},
		{
			name: "corrupt positions file",
			between: func(e env) {
				if err := os.WriteFile(filepath.Join(e.state, PositionsFile), []byte(`{"version":1,"offs`), 0o600); err != nil {
					e.t.Fatal(err)
				}
				e.w.write(100)
			},
			from: 1, to: 600, // start_at: beginning
		},
		{
			name: "positions file for another path",
			between: func(e env) {
				p := readPositions(e.t, e.state)
				p.Path = "/var/log/other.json"
				data, _ := json.Marshal(p)
				if err := os.WriteFile(filepath.Join(e.state, PositionsFile), data, 0o600); err != nil {
					e.t.Fatal(err)
				}
				e.w.write(100)
			},
			from: 1, to: 600,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			dir := t.TempDir()
			e := env{t: t, path: filepath.Join(dir, "access.json"), state: filepath.Join(dir, "state")}
			e.w = newLogWriter(t, e.path)
			e.w.write(500)
			cfg := testTailConfig(e.path)
			cfg.RotateGrace = 300 * time.Millisecond
			r1 := startTail(t, cfg, TailOptions{StateDir: e.state}, true)
			r1.waitLines(t, 500)
			r1.stop(t)
			checkSeqs(t, r1.got.snapshot(), 1, 500)

			tc.between(e)

			r2 := startTail(t, cfg, TailOptions{StateDir: e.state}, true)
			// Lines counts what was read: the saved 500 plus the new lines,
			// or everything after a fallback to start_at.
			wantLines := uint64(500 + tc.to - tc.from + 1)
			if tc.from == 1 {
				wantLines = uint64(tc.to)
			}
			r2.waitLines(t, tc.to-tc.from+1)
			waitFor(t, "positions", func() bool {
				r2.got.mu.Lock()
				defer r2.got.mu.Unlock()
				return r2.got.last.Lines == wantLines // every line was committed
			})
			r2.stop(t)
			r2.checkClean(t)
			checkSeqs(t, r2.got.snapshot(), tc.from, tc.to)
			if got := metricValue(t, r2.reg, "vigil_source_lost_bytes_total", ""); got != float64(tc.lost) {
				t.Errorf("lost bytes = %v, want %d", got, tc.lost)
			}
			if tc.kind != "" {
				if got := metricValue(t, r2.reg, "vigil_source_rotations_total", tc.kind); got < tc.rotations {
					t.Errorf("%s rotations = %v, want >= %v", tc.kind, got, tc.rotations)
				}
			}
			if p := readPositions(t, e.state); p.Lines != wantLines {
				t.Errorf("saved lines = %d, want %d", p.Lines, wantLines)
			}
			if strings.HasPrefix(tc.name, "corrupt") {
				if _, err := os.Stat(filepath.Join(e.state, PositionsFile+".corrupt")); err != nil {
					t.Errorf("corrupt positions file not kept aside: %v", err)
				}
			}
		})
	}
}

// gzipFile compresses path to path.gz and removes path, like logrotate's
// compress without delaycompress.
func gzipFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestTailRestartMidStream stops and restarts the Tail while the log is
// being written: every line is handed out exactly once across both runs. In
// the second case the engine stops committing before the stop, as if it had
// not finished the last chunks: those lines, and only those, come again.
func TestTailRestartMidStream(t *testing.T) {
	for _, uncommitted := range []bool{false, true} {
		name := map[bool]string{false: "all committed", true: "last chunks not committed"}[uncommitted]
		t.Run(name, func(t *testing.T) {
			leakCheck(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "access.json")
			state := filepath.Join(dir, "state")
			w := newLogWriter(t, path)
			w.write(100)
			stop := w.run()
			defer stop()
			cfg := testTailConfig(path)
			r1 := startTail(t, cfg, TailOptions{StateDir: state}, true)
			r1.waitLines(t, 2000)
			if uncommitted {
				r1.commitOff.Store(true)
				n := r1.got.count()
				r1.waitLines(t, n+1000)
			}
			r1.stop(t)
			committed := int(r1.committedLines.Load())
			first := r1.got.snapshot()
			if !uncommitted && committed != len(first) {
				t.Fatalf("committed %d of %d lines", committed, len(first))
			}
			checkSeqs(t, first[:committed], 1, committed)

			r2 := startTail(t, cfg, TailOptions{StateDir: state}, true)
			r2.waitLines(t, 1000)
			total := stop()
			r2.waitLines(t, total-committed)
			r2.stop(t)
			r2.checkClean(t)
			checkSeqs(t, r2.got.snapshot(), committed+1, total)
		})
	}
}

// TestCommitAfterRunReturned commits after Run returned: the position is
// saved at once.
func TestCommitAfterRunReturned(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	state := filepath.Join(dir, "state")
	w := newLogWriter(t, path)
	w.write(10)
	r := startTail(t, testTailConfig(path), TailOptions{StateDir: state}, false)
	r.waitLines(t, 10)
	r.stop(t)
	if p := readPositions(t, state); p.Lines != 0 {
		t.Fatalf("saved %d lines before any commit", p.Lines)
	}
	r.got.mu.Lock()
	last := r.got.last
	r.got.mu.Unlock()
	r.tail.Commit(last)
	if p := readPositions(t, state); p.Lines != 10 || p.Offset != lineBytes(1, 10) {
		t.Fatalf("after a late commit saved lines %d offset %d, want 10 and %d", p.Lines, p.Offset, lineBytes(1, 10))
	}
}

// TestTailCheckpointErrors removes the state directory under a running Tail:
// checkpoints fail and are counted, following goes on, and Run reports that
// the final checkpoint could not be written.
func TestTailCheckpointErrors(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	state := filepath.Join(dir, "state")
	w := newLogWriter(t, path)
	w.write(10)
	reg := prometheus.NewRegistry()
	tl, err := NewTail(testTailConfig(path), TailOptions{StateDir: state, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *Chunk, 4)
	errc := make(chan error, 1)
	go func() { errc <- tl.Run(ctx, out) }()
	got := &received{}
	take := func(n int) {
		for got.count() < n {
			c := <-out
			got.add(c)
			pos := c.Pos
			c.Release()
			tl.Commit(pos)
		}
	}
	take(10)
	if err := os.RemoveAll(state); err != nil {
		t.Fatal(err)
	}
	w.write(10)
	take(20) // still following
	waitFor(t, "a failed checkpoint", func() bool {
		return metricValue(t, reg, "vigil_source_checkpoint_errors_total", "") >= 1
	})
	cancel()
	for c := range out {
		c.Release()
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "positions") {
		t.Fatalf("Run = %v, want the final checkpoint's error", err)
	}
	checkSeqs(t, got.snapshot(), 1, 20)
}
