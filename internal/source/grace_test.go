package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// TestTailRotateGraceAndCheckpoints drives a polling Tail with a fake clock:
// the renamed file is read until it has not grown for rotate_grace, even
// though the new file exists, and positions are saved only when the
// checkpoint interval has passed.
func TestTailRotateGraceAndCheckpoints(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	state := filepath.Join(dir, "state")
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	w := newLogWriter(t, path)
	w.write(10)
	cfg := testTailConfig(path)
	cfg.Poll = true
	cfg.RotateGrace = time.Second
	cfg.CheckpointInterval = time.Second
	r := startTail(t, cfg, TailOptions{StateDir: state, Clock: clk}, true)
	r.waitLines(t, 10) // read at start, before any tick

	// logrotate renames the log and creates a new one; Nginx keeps writing
	// to the old file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w.write(5)
	clk.Advance(pollInterval) // 10:00:00.25: reads 11..15, sees the rotation
	r.waitLines(t, 15)
	waitFor(t, "commit of line 15", func() bool { return r.committedLines.Load() == 15 })
	if p := readPositions(t, state); p.Lines != 0 {
		t.Fatalf("positions saved %d lines before the checkpoint interval passed", p.Lines)
	}

	// 750 ms without growth: still within the grace, the old file is still
	// read.
	for range 3 {
		clk.Advance(pollInterval)
	}
	waitFor(t, "checkpoint at 10:00:01", func() bool {
		data, err := os.ReadFile(filepath.Join(state, PositionsFile))
		return err == nil && readPositionsData(data).Lines == 15
	})
	if p := readPositions(t, state); !p.Updated.Equal(start.Add(time.Second)) {
		t.Errorf("positions updated at %v, want %v", p.Updated, start.Add(time.Second))
	}
	w.write(2)
	clk.Advance(pollInterval) // 10:00:01.25: reads 16..17
	r.waitLines(t, 17)

	// Nginx reopens; the new file is read once the old one has been quiet
	// for the whole grace.
	w.reopen(path)
	w.write(3)
	for range 3 {
		clk.Advance(pollInterval) // up to 10:00:02: 750 ms since growth
	}
	if n := r.got.count(); n != 17 {
		t.Fatalf("%d lines before the grace passed, want 17", n)
	}
	clk.Advance(pollInterval) // 10:00:02.25: quiet for 1 s: switch
	r.waitLines(t, 20)
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), 1, 20)
	if got := metricValue(t, r.reg, "vigil_source_rotations_total", "rename"); got != 1 {
		t.Errorf("rename rotations = %v, want 1", got)
	}
	// The final checkpoint on stop saved everything committed.
	if p := readPositions(t, state); p.Lines != 20 {
		t.Errorf("final positions: %d lines, want 20", p.Lines)
	}
}

// TestTailReadAllocatesNothing reads a large log through the tailer's read
// path: steady-state reading allocates nothing per chunk (nor per call).
func TestTailReadAllocatesNothing(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	w := newLogWriter(t, path)
	w.write(10000) // about 2.5 MB: ten chunks
	tl, err := NewTail(testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *Chunk, poolSize)
	f := newFollower(tl, out)
	f.n = newNotifier(dir, true, tl.log)
	f.tick = tl.clk.NewTicker(time.Hour)
	defer f.tick.Stop()
	f.cur, err = f.open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	consumed := make(chan int)
	go func() {
		chunks := 0
		for c := range out {
			chunks++
			c.Release()
		}
		consumed <- chunks
	}()
	ctx := context.Background()
	read := func() {
		f.cur.seek(0)
		if _, err := f.readAvailable(ctx); err != nil {
			t.Fatal(err)
		}
	}
	read() // learn the file's first bytes
	if n := testing.AllocsPerRun(5, read); n != 0 {
		t.Errorf("reading 2.5 MB: %v allocs, want 0", n)
	}
	close(out)
	if chunks := <-consumed; chunks < 7*10 {
		t.Errorf("only %d chunks handed out", chunks)
	}
}
