package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue returns the value of the counter or gauge name (with the label
// value lv, if not empty) in reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name, lv string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if lv != "" {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetValue() == lv
				}
				if !found {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// readPositions reads the positions file in dir.
func readPositions(t *testing.T, dir string) positions {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, PositionsFile))
	if err != nil {
		t.Fatal(err)
	}
	var p positions
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTailConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*TailConfig)
		want string
	}{
		{name: "default with path", edit: func(c *TailConfig) {}, want: ""},
		{name: "no path", edit: func(c *TailConfig) { c.Path = "" }, want: "path: must be set"},
		{name: "bad start_at", edit: func(c *TailConfig) { c.StartAt = "middle" }, want: `start_at: must be "end" or "beginning" (got "middle")`},
		{
			name: "everything wrong",
			edit: func(c *TailConfig) { *c = TailConfig{RotateGrace: -time.Second} },
			want: "path: must be set\n" +
				`start_at: must be "end" or "beginning" (got "")` + "\n" +
				"rotate_grace: must be > 0 (got -1s)\n" +
				"checkpoint_interval: must be > 0 (got 0s)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultTailConfig()
			cfg.Path = "/var/log/nginx/access.json"
			tc.edit(&cfg)
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate() = %q, want %q", got, tc.want)
			}
			if _, err := NewTail(cfg, TailOptions{StateDir: t.TempDir()}); (err == nil) != (tc.want == "") {
				t.Errorf("NewTail error = %v", err)
			}
		})
	}
	if _, err := NewTail(testTailConfig("/x"), TailOptions{}); err == nil {
		t.Error("NewTail accepted an empty state directory")
	}
}

// TestTailRenameRotation rotates like logrotate "create" with Nginx reopening
// its log 300 ms later: lines written to the old file after the rename must
// not be lost.
func TestTailRenameRotation(t *testing.T) {
	for _, poll := range []bool{false, true} {
		name := "inotify"
		if poll {
			name = "poll"
		}
		t.Run(name, func(t *testing.T) {
			leakCheck(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "access.json")
			w := newLogWriter(t, path)
			w.write(100)
			cfg := testTailConfig(path)
			cfg.Poll = poll
			r := startTail(t, cfg, TailOptions{StateDir: filepath.Join(dir, "state")}, true)
			stop := w.run()
			defer stop()
			r.waitLines(t, 2000)
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			before := w.written()
			time.Sleep(300 * time.Millisecond) // Nginx keeps writing to the old file until USR1
			w.reopen(path)
			after := w.written()
			if after-before < 100 {
				t.Fatalf("only %d lines were written to the old file after the rename", after-before)
			}
			waitFor(t, "lines in the new file", func() bool { return w.written() > after+2000 })
			total := stop()
			r.waitLines(t, total)
			r.stop(t)
			r.checkClean(t)
			checkSeqs(t, r.got.snapshot(), 1, total)
			if got := metricValue(t, r.reg, "vigil_source_rotations_total", "rename"); got != 1 {
				t.Errorf("rename rotations = %v, want 1", got)
			}
			if got := metricValue(t, r.reg, "vigil_source_lost_bytes_total", ""); got != 0 {
				t.Errorf("lost bytes = %v, want 0", got)
			}
			if got := metricValue(t, r.reg, "vigil_source_lines_total", ""); got != float64(total) {
				t.Errorf("lines_total = %v, want %d", got, total)
			}
		})
	}
}

// TestTailCopytruncate truncates the log in place after copying it, while
// the writer keeps appending (it pauses only during the copy and truncate,
// as the lines written in between are lost by copytruncate itself).
func TestTailCopytruncate(t *testing.T) {
	tests := []struct {
		name     string
		behind   bool // the engine is stalled, so the tailer has unread data when the file is truncated
		keepCopy bool // the copy stays beside the log (delaycompress)
	}{
		{name: "caught up", keepCopy: true},
		{name: "behind, rest read from the copy", behind: true, keepCopy: true},
		{name: "behind, copy compressed away", behind: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "access.json")
			w := newLogWriter(t, path)
			w.write(100)
			r := startTail(t, testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state")}, true)
			stop := w.run()
			defer stop()
			r.waitLines(t, 2000)
			var once sync.Once
			release := func() {}
			if tc.behind {
				resume := r.pause()
				release = func() { once.Do(resume) }
				t.Cleanup(release)
				// Let the file run well ahead of what was handed out.
				start := w.written()
				waitFor(t, "writer to get ahead", func() bool { return w.written() > start+3000 })
			}
			copyName := path + ".1"
			if !tc.keepCopy {
				copyName = filepath.Join(t.TempDir(), "elsewhere")
			}
			w.mu.Lock()
			if !tc.behind {
				// Caught up: everything written so far was handed out.
				waitFor(t, "tail to catch up", func() bool { return r.got.count() == w.next-1 })
			}
			data, err := os.ReadFile(path)
			if err == nil {
				err = os.WriteFile(copyName, data, 0o644)
			}
			if err == nil {
				err = os.Truncate(path, 0)
			}
			cut := w.next - 1
			w.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			release()
			waitFor(t, "lines after the truncation", func() bool { return w.written() > cut+2000 })
			total := stop()
			if !tc.keepCopy {
				r.waitLines(t, 1)
				waitFor(t, "last line", func() bool {
					s := r.got.snapshot()
					return len(s) > 0 && s[len(s)-1] == total
				})
				r.stop(t)
				r.checkClean(t)
				got := r.got.snapshot()
				// Lines before the cut may be lost, never duplicated or reordered;
				// everything after the cut is there.
				for i := 1; i < len(got); i++ {
					if got[i] <= got[i-1] {
						t.Fatalf("line %d after %d: duplicated or out of order", got[i], got[i-1])
					}
				}
				checkSeqs(t, got[len(got)-(total-cut):], cut+1, total)
				if lost := metricValue(t, r.reg, "vigil_source_lost_bytes_total", ""); lost <= 0 {
					t.Errorf("lost bytes = %v, want > 0", lost)
				}
			} else {
				r.waitLines(t, total)
				r.stop(t)
				r.checkClean(t)
				checkSeqs(t, r.got.snapshot(), 1, total)
				if lost := metricValue(t, r.reg, "vigil_source_lost_bytes_total", ""); lost != 0 {
					t.Errorf("lost bytes = %v, want 0", lost)
				}
			}
			if got := metricValue(t, r.reg, "vigil_source_rotations_total", "truncate"); got != 1 {
				t.Errorf("truncate rotations = %v, want 1", got)
			}
		})
	}
}

// TestTailSeveralRotations rotates five times in quick succession, faster
// than rotate_grace, shifting old files like logrotate (access.json.1 →
// access.json.2 …), sometimes reopening at once and sometimes later.
func TestTailSeveralRotations(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	w := newLogWriter(t, path)
	w.write(100)
	r := startTail(t, testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state")}, true)
	stop := w.run()
	defer stop()
	r.waitLines(t, 1000)
	const rotations = 5
	for i := range rotations {
		for k := i; k >= 1; k-- {
			if err := os.Rename(path+"."+itoa(k), path+"."+itoa(k+1)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			time.Sleep(100 * time.Millisecond)
		}
		w.reopen(path)
		time.Sleep(150 * time.Millisecond)
	}
	total := stop()
	r.waitLines(t, total)
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), 1, total)
	if got := metricValue(t, r.reg, "vigil_source_rotations_total", "rename"); got != rotations {
		t.Errorf("rename rotations = %v, want %d", got, rotations)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// TestTailHugeLine writes a 1 MiB line between normal lines: it is skipped
// and counted, never buffered whole, and its neighbours are intact.
func TestTailHugeLine(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	w := newLogWriter(t, path)
	w.write(100)
	r := startTail(t, testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state"), MaxLine: 1024}, true)
	r.waitLines(t, 100)
	// Write the huge line in pieces while the tailer reads it.
	piece := strings.Repeat("h", 64<<10)
	w.mu.Lock()
	for range 16 {
		if _, err := w.f.WriteString(piece); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if _, err := w.f.WriteString("\n"); err != nil {
		t.Fatal(err)
	}
	w.mu.Unlock()
	w.write(50)
	r.waitLines(t, 150)
	waitFor(t, "skip count", func() bool {
		r.got.mu.Lock()
		defer r.got.mu.Unlock()
		return r.got.skipped == 1 && r.got.last.Lines == 151
	})
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), 1, 150)
	if got := metricValue(t, r.reg, "vigil_source_lines_skipped_total", "line_too_long"); got != 1 {
		t.Errorf("skipped metric = %v, want 1", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := readPositions(t, filepath.Join(dir, "state")); p.Offset != fi.Size() || p.Lines != 151 {
		t.Errorf("saved offset %d lines %d, want %d and 151", p.Offset, p.Lines, fi.Size())
	}
}

// TestTailPartialLine writes one line in two writes: nothing is handed out
// until the line is complete, and then it is handed out whole, once.
func TestTailPartialLine(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	f := openAppend(t, path)
	defer f.Close()
	r := startTail(t, testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state")}, true)
	line := seqLine(1)
	half := len(line) / 2
	if _, err := f.WriteString(line[:half]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first half read", func() bool {
		return metricValue(t, r.reg, "vigil_source_bytes_total", "") == float64(half)
	})
	if n := r.got.count(); n != 0 {
		t.Fatalf("%d lines handed out before the line was complete", n)
	}
	if _, err := f.WriteString(line[half:] + "\n" + seqLine(2)[:10]); err != nil {
		t.Fatal(err)
	}
	r.waitLines(t, 1)
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), 1, 1)
	if p := readPositions(t, filepath.Join(dir, "state")); p.Offset != int64(len(line)+1) {
		t.Errorf("saved offset %d, want %d (the partial second line is not committed)", p.Offset, len(line)+1)
	}
}

// TestTailFileAppearsLater starts before the log exists: once created it is
// read from its start, even with start_at: end.
func TestTailFileAppearsLater(t *testing.T) {
	for _, poll := range []bool{false, true} {
		t.Run(map[bool]string{false: "inotify", true: "poll"}[poll], func(t *testing.T) {
			leakCheck(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "access.json")
			state := filepath.Join(dir, "state")
			cfg := testTailConfig(path)
			cfg.StartAt = StartAtEnd
			cfg.Poll = poll
			r := startTail(t, cfg, TailOptions{StateDir: state}, true)
			waitFor(t, "first checkpoint", func() bool {
				_, err := os.Stat(filepath.Join(state, PositionsFile))
				return err == nil
			})
			w := newLogWriter(t, path)
			w.write(50)
			r.waitLines(t, 50)
			r.stop(t)
			checkSeqs(t, r.got.snapshot(), 1, 50)
		})
	}
}

// TestTailStartAtEnd starts a log without a saved position at its end; a line
// being written at that moment is delivered whole once complete.
func TestTailStartAtEnd(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	w := newLogWriter(t, path)
	w.write(100)
	line := seqLine(101)
	w.mu.Lock()
	if _, err := w.f.WriteString(line[:20]); err != nil {
		t.Fatal(err)
	}
	w.mu.Unlock()
	cfg := testTailConfig(path)
	cfg.StartAt = StartAtEnd
	r := startTail(t, cfg, TailOptions{StateDir: filepath.Join(dir, "state")}, true)
	waitFor(t, "start", func() bool { return metricValue(t, r.reg, "vigil_source_offset_bytes", "") > 0 })
	w.mu.Lock()
	if _, err := w.f.WriteString(line[20:] + "\n"); err != nil {
		t.Fatal(err)
	}
	w.next = 102
	w.mu.Unlock()
	w.write(9)
	r.waitLines(t, 10)
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), 101, 110)
}

// TestTailPositionsFile checks the saved position: format, mode, fingerprint.
func TestTailPositionsFile(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	state := filepath.Join(dir, "state")
	w := newLogWriter(t, path)
	w.write(500)
	r := startTail(t, testTailConfig(path), TailOptions{StateDir: state}, true)
	r.waitLines(t, 500)
	r.stop(t)
	fi, err := os.Stat(filepath.Join(state, PositionsFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("positions file mode %v, want 0600", fi.Mode().Perm())
	}
	p := readPositions(t, state)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dev, ino := fileIdentity(f)
	head := make([]byte, 1024)
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(head)
	lf, _ := f.Stat()
	want := positions{
		Version: 1, Path: path, Dev: dev, Ino: ino,
		FingerprintLen: 1024, FingerprintSHA256: hex.EncodeToString(sum[:]),
		Offset: lf.Size(), Size: lf.Size(), Lines: 500, Updated: p.Updated,
	}
	if p != want {
		t.Errorf("positions = %+v\nwant        %+v", p, want)
	}
	if p.Updated.IsZero() {
		t.Error("no update time")
	}
	entries, _ := os.ReadDir(state)
	if len(entries) != 1 {
		t.Errorf("state directory holds %d files, want only the positions file", len(entries))
	}
}

// TestTailStopsPromptlyWhileBusy cancels while data is always available and
// the consumer always ready: Run must not read the rest of the file first.
func TestTailStopsPromptlyWhileBusy(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	w := newLogWriter(t, path)
	w.mu.Lock()
	var sb strings.Builder
	for range 100000 {
		sb.WriteString(seqLine(w.next) + "\n")
		w.next++
	}
	if _, err := w.f.WriteString(sb.String()); err != nil {
		t.Fatal(err)
	}
	w.mu.Unlock()
	tl, err := NewTail(testTailConfig(path), TailOptions{StateDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *Chunk, 64)
	errc := make(chan error, 1)
	go func() { errc <- tl.Run(ctx, out) }()
	chunks := 0
	for c := range out {
		if chunks == 0 {
			cancel()
		}
		chunks++
		c.Release()
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	// 100,000 lines are about 100 chunks. A prompt stop hands out at most
	// what was already in flight (the pool) and the chunk being filled.
	if chunks > poolSize+2 {
		t.Errorf("%d chunks handed out after cancel", chunks-1)
	}
}

func TestNewTailMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := TailOptions{StateDir: t.TempDir(), Registerer: reg}
	if _, err := NewTail(testTailConfig("/var/log/a.json"), o); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTail(testTailConfig("/var/log/b.json"), o); err == nil || !strings.Contains(err.Error(), "register source metrics") {
		t.Fatalf("second Tail on one registry: %v, want a registration error", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{
		"vigil_source_bytes_total", "vigil_source_checkpoint_errors_total", "vigil_source_lines_skipped_total",
		"vigil_source_lines_total", "vigil_source_lost_bytes_total", "vigil_source_offset_bytes", "vigil_source_rotations_total",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("registered %v, want exactly the first Tail's %v", names, want)
	}
}
